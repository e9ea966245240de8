/**
 * The WGSL kernels per weight type: which files define its block dot product (beside its CPU
 * code in `engine/quant/`), which activation rounding it takes, and the compiled pipelines.
 * A mat-vec over a matrix in its GGUF blocks is two dispatches: round the activations as ggml's
 * CPU dot products do (activations.wgsl), then one workgroup per row and token (matvec.wgsl),
 * or per row and 8 tokens (matmat.wgsl, for prompt batches); both read blocks as matmul.wgsl
 * says.
 *
 * @example
 * ```ts
 * import { openGpu } from "./device.ts";
 * import { GpuKernels } from "./kernels.ts";
 * const gpu = await openGpu();
 * if (!("unavailable" in gpu)) {
 *   const kernels = new GpuKernels(gpu.device);
 *   const pipeline = await kernels.matVec("Q4_0");
 * }
 * ```
 * @module
 */
import { type VecDotType, vecDotType } from "../../quant/activations.ts";
import { IQ_TABLES } from "../../quant/_iq_grids.ts";

/** WGSL made in TypeScript rather than read from a file. */
interface GeneratedWgsl {
  readonly text: string;
}

/** An i-quant's sources: where its tables start, the shared helpers, its own file. */
function iqSources(file: string): (string | GeneratedWgsl)[] {
  return [{ text: IQ_TABLES.wgsl }, "_iq.wgsl", file];
}

/**
 * What defines a type's `block_dot`, helpers first: WGSL files in `engine/quant/`, and generated
 * constants.
 */
const FORMAT_SOURCES: Readonly<Record<string, readonly (string | GeneratedWgsl)[]>> = {
  F32: ["f32.wgsl"],
  F16: ["f16.wgsl"],
  BF16: ["bf16.wgsl"],
  Q4_0: ["q4_0.wgsl"],
  Q4_1: ["q4_1.wgsl"],
  Q5_0: ["q5_0.wgsl"],
  Q5_1: ["q5_1.wgsl"],
  Q8_0: ["q8_0.wgsl"],
  IQ4_NL: ["_iq4_values.wgsl", "iq4_nl.wgsl"],
  Q2_K: ["q2_k.wgsl"],
  Q3_K: ["q3_k.wgsl"],
  Q4_K: ["_k_scales.wgsl", "q4_k.wgsl"],
  Q5_K: ["_k_scales.wgsl", "q5_k.wgsl"],
  Q6_K: ["q6_k.wgsl"],
  IQ4_XS: ["_iq4_values.wgsl", "iq4_xs.wgsl"],
  IQ2_XXS: iqSources("iq2_xxs.wgsl"),
  IQ2_XS: iqSources("iq2_xs.wgsl"),
  IQ2_S: iqSources("iq2_s.wgsl"),
  IQ3_XXS: iqSources("iq3_xxs.wgsl"),
  IQ3_S: iqSources("iq3_s.wgsl"),
  IQ1_S: iqSources("iq1_s.wgsl"),
  IQ1_M: iqSources("iq1_m.wgsl"),
};

/** The weight types with GPU kernels. */
export const GPU_TYPES: readonly string[] = Object.keys(FORMAT_SOURCES);

/** The entry point of activations.wgsl for each vec_dot type. */
const ROUNDING_ENTRY: Readonly<Record<VecDotType, string>> = {
  F32: "round_f32",
  F16: "round_f16",
  BF16: "round_bf16",
  Q8_0: "round_q8_0",
  Q8_1: "round_q8_1",
  Q8_K: "round_q8_k",
};

/** Invocations per workgroup of every kernel here (the WORKGROUP constants of the WGSL). */
export const WORKGROUP = 64;
/** Workgroups a dispatch dimension may have (WebGPU's guaranteed minimum). */
export const MAX_GROUPS = 65535;

/** Where each format's WGSL lives, beside its TypeScript and C. */
export const QUANT = new URL("../../quant/", import.meta.url);
const sourceCache = new Map<string, Promise<string>>();
/** WGSL files (and generated text) joined in order (WGSL has no includes: helpers go first). */
export async function sources(urls: readonly (URL | GeneratedWgsl)[]): Promise<string> {
  const texts = urls.map((url) => {
    if (!(url instanceof URL)) return Promise.resolve(url.text);
    let text = sourceCache.get(url.href);
    if (!text) sourceCache.set(url.href, text = Deno.readTextFile(url));
    return text;
  });
  return (await Promise.all(texts)).join("\n");
}

/** Compiled pipelines of one device, made on first use. */
export class GpuKernels {
  /** Mat-vec and mat-mat pipelines by "kernel type". */
  readonly #products = new Map<string, Promise<GPUComputePipeline>>();
  readonly #rounding = new Map<VecDotType, Promise<GPUComputePipeline>>();
  // explicit layouts: not every kernel reads every binding (Q8_1 sums), "auto" would drop them
  readonly #matVecLayout: GPUPipelineLayout;
  readonly #roundingLayout: GPUPipelineLayout;
  /** The i-quants' grids and signs (IQ_TABLES), binding 5 of every mat-vec and mat-mat. */
  readonly iqTables: GPUBuffer;

  constructor(readonly device: GPUDevice) {
    this.#matVecLayout = layout(device, [
      "read-only-storage",
      "read-only-storage",
      "read-only-storage",
      "storage",
      "uniform",
      "read-only-storage",
    ]);
    this.iqTables = device.createBuffer({
      label: "i-quant tables",
      size: IQ_TABLES.words.byteLength,
      usage: GPUBufferUsage.STORAGE,
      mappedAtCreation: true,
    });
    new Uint32Array(this.iqTables.getMappedRange()).set(IQ_TABLES.words);
    this.iqTables.unmap();
    this.#roundingLayout = layout(device, ["read-only-storage", "storage", "storage", "uniform"]);
  }

  /** The mat-vec pipeline of weight type `type` (bindings: see matmul.wgsl). */
  matVec(type: string): Promise<GPUComputePipeline> {
    return this.#product("matvec", type);
  }

  /** The mat-mat pipeline of weight type `type`, for batches of tokens (see matmat.wgsl). */
  matMat(type: string): Promise<GPUComputePipeline> {
    return this.#product("matmat", type);
  }

  /** `kernel` (matvec or matmat: its file and entry point) over weights of `type`. */
  #product(kernel: "matvec" | "matmat", type: string): Promise<GPUComputePipeline> {
    const key = `${kernel} ${type}`;
    let pipeline = this.#products.get(key);
    if (!pipeline) {
      const files = FORMAT_SOURCES[type];
      if (!files) throw new RangeError(`no WebGPU kernel for ${type}`);
      pipeline = (async () => {
        const code = await sources([
          ...files.map((file) => typeof file === "string" ? new URL(file, QUANT) : file),
          new URL("./reduce.wgsl", import.meta.url),
          new URL("./matmul.wgsl", import.meta.url),
          new URL(`./${kernel}.wgsl`, import.meta.url),
        ]);
        return compile(this.device, key, code, kernel, this.#matVecLayout);
      })();
      this.#products.set(key, pipeline);
    }
    return pipeline;
  }

  /** The pipeline that rounds activations for weights of `type`, and its vec_dot type. */
  rounding(type: string): Promise<GPUComputePipeline> {
    const dotType = vecDotType(type);
    let pipeline = this.#rounding.get(dotType);
    if (!pipeline) {
      pipeline = sources([new URL("round_f16.wgsl", QUANT), new URL("activations.wgsl", QUANT)])
        .then((code) =>
          compile(
            this.device,
            `activations ${dotType}`,
            code,
            ROUNDING_ENTRY[dotType],
            this.#roundingLayout,
          )
        );
      this.#rounding.set(dotType, pipeline);
    }
    return pipeline;
  }
}

/** A compute pipeline from WGSL; a compilation error names the shader and line. */
export async function compile(
  device: GPUDevice,
  label: string,
  code: string,
  entryPoint: string,
  pipelineLayout: GPUPipelineLayout,
): Promise<GPUComputePipeline> {
  const module = device.createShaderModule({ label, code });
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((message) => message.type === "error");
  if (errors.length) {
    const first = errors[0]!;
    throw new Error(`WGSL of ${label}, line ${first.lineNum}: ${first.message}`);
  }
  return device.createComputePipelineAsync({
    label,
    layout: pipelineLayout,
    compute: { module, entryPoint },
  });
}

/** A pipeline layout of one group whose bindings 0, 1, … are buffers of these kinds. */
export function layout(device: GPUDevice, kinds: GPUBufferBindingType[]): GPUPipelineLayout {
  const group = device.createBindGroupLayout({
    entries: kinds.map((type, binding) => ({
      binding,
      visibility: GPUShaderStage.COMPUTE,
      buffer: { type },
    })),
  });
  return device.createPipelineLayout({ bindGroupLayouts: [group] });
}

/** Workgroups for `units` (rows or blocks) spread over x and y, at most 65535 each. */
export function groupsFor(units: number): [number, number] {
  return units <= MAX_GROUPS
    ? [Math.max(1, units), 1]
    : [MAX_GROUPS, Math.ceil(units / MAX_GROUPS)];
}
