/**
 * Hybrid placement's CPU side: the routed experts placed off the GPU (engine/offload/
 * placement.ts) stay in a cpu backend's memory and compute there, on the rows of the layer's
 * normalised input that the GPU sends back with its router logits; each output row goes to its
 * token's rank row on the GPU. The GPU computes its own experts meanwhile.
 * @module
 */
import type { ModelConfig } from "../../model/config.ts";
import { swiglu } from "../../model/experts.ts";
import type { Matrix, MatrixBackend } from "../../model/matrix.ts";
import { slotsRoutedTo } from "../../model/router.ts";
import type { FeedForward } from "../../model/weights.ts";
import type { HybridStats } from "../../offload/placement.ts";

/** The CPU-placed experts of every layer and the host buffers they compute in. */
export class HostExperts {
  readonly #expertIn: Float32Array;
  readonly #expertOut: Float32Array;
  /** An output row in plain memory (the backend's may be shared, which WebGPU does not take). */
  readonly #row: Float32Array<ArrayBuffer>;
  /** The routing slots of the expert computing now. */
  readonly #slots: Int32Array;
  readonly #scratch: { readonly hidden: Float32Array; readonly hiddenUp: Float32Array };
  #runs = 0;
  #cpuRuns = 0;
  #cpuMs = 0;

  /**
   * `layers[l][e]`: expert e of layer l in `backend`'s memory (undefined: on the GPU; a null
   * layer: dense). `widest`: the widest feed-forward, `batch`: the most tokens at once.
   */
  constructor(
    readonly config: ModelConfig,
    readonly layers: readonly (readonly (FeedForward<Matrix> | undefined)[] | null)[],
    backend: MatrixBackend,
    widest: number,
    batch: number,
    readonly placed: Pick<HybridStats, "gpu_bytes" | "cpu_bytes" | "expected_gpu_share">,
  ) {
    this.#expertIn = backend.floats(batch * config.dim);
    this.#expertOut = backend.floats(batch * config.dim);
    this.#row = new Float32Array(config.dim);
    this.#slots = new Int32Array(batch);
    this.#scratch = {
      hidden: backend.floats(batch * widest),
      hiddenUp: backend.floats(batch * widest),
    };
  }

  /** Whether expert `expert` of `layer` computes on the CPU. */
  onCpu(layer: number, expert: number): boolean {
    return this.layers[layer]?.[expert] !== undefined;
  }

  /**
   * Runs CPU expert `expert` of `layer` over the tokens `chosen` routes to it (`k` experts per
   * token, `count` tokens; `input`: their normalised rows), handing each output row to
   * `write(rankRow, values)`.
   */
  run(
    layer: number,
    expert: number,
    chosen: Int32Array,
    count: number,
    input: Float32Array,
    write: (rankRow: number, values: Float32Array<ArrayBuffer>) => void,
  ): void {
    const started = performance.now();
    const dim = this.config.dim;
    const k = this.config.expertsUsed;
    const slots = this.#slots;
    const routed = slotsRoutedTo(expert, chosen, count * k, slots);
    for (let j = 0; j < routed; j++) {
      const token = Math.floor(slots[j]! / k);
      this.#expertIn.set(input.subarray(token * dim, (token + 1) * dim), j * dim);
    }
    swiglu(this.layers[layer]![expert]!, this.#expertIn, routed, this.#expertOut, this.#scratch);
    for (let j = 0; j < routed; j++) {
      this.#row.set(this.#expertOut.subarray(j * dim, (j + 1) * dim));
      write(slots[j]!, this.#row);
    }
    this.#cpuRuns += routed;
    this.#cpuMs += performance.now() - started;
  }

  /** Counts a layer's `computations` (tokens × experts per token), wherever they ran. */
  countLayer(computations: number): void {
    this.#runs += computations;
  }

  stats(): HybridStats {
    const cpuExperts = this.layers.reduce(
      (sum, layer) => sum + (layer?.filter((ffn) => ffn !== undefined).length ?? 0),
      0,
    );
    const moeLayers = this.layers.filter((layer) => layer !== null).length;
    return {
      gpu_experts: moeLayers * this.config.experts - cpuExperts,
      cpu_experts: cpuExperts,
      ...this.placed,
      gpu_share: this.#runs > 0 ? 1 - this.#cpuRuns / this.#runs : 0,
      cpu_ms: this.#cpuMs,
    };
  }
}
