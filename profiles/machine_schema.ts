/**
 * The machine profile (`moebench profile --json`, `--out machine.json`) as a zod schema: what a
 * results file carries under `machine` and what `bench --machine FILE` reads. Facts keep their
 * source; strings are whatever the machine reported (reports escape them).
 *
 * @example
 * ```ts ignore
 * import { MachineSchema } from "./machine_schema.ts";
 * const machine = MachineSchema.parse(JSON.parse(await Deno.readTextFile("machine.json")));
 * console.log(machine.profile, machine.measured.ram_copy_gbps);
 * ```
 * @module
 */
import { z } from "zod";
import type { MeasuredDetails } from "./probe/mod.ts";

const fact = <T extends z.ZodType>(value: T) =>
  z.object({ value: value.nullable(), source: z.string() }).strict();

const text = fact(z.string());
const count = fact(z.number());

const Hardware = z.object({
  os: z.object({ platform: text, release: text, kernel: text }).strict(),
  cpu: z.object({
    model: text,
    vendor: text,
    architecture: text,
    physicalCores: count,
    logicalCores: count,
    performanceCores: count,
    simd: fact(z.array(z.string()).readonly()),
    l2Bytes: count,
    l3Bytes: count,
  }).strict(),
  memory: z.object({ totalBytes: count, availableBytes: count }).strict(),
  gpu: z.object({
    vendor: text,
    architecture: text,
    description: text,
    fallback: fact(z.boolean()),
    features: fact(z.array(z.string()).readonly()),
    maxBufferBytes: count,
    maxBindingBytes: count,
    memoryModel: fact(z.enum(["unified", "discrete"])),
    memoryBytes: count,
  }).strict().nullable(),
  gpuUnavailable: z.string().nullable(),
  disk: z.object({
    folder: z.string(),
    device: text,
    filesystem: text,
    kind: text,
    freeBytes: count,
    totalBytes: count,
  }).strict(),
}).strict();

const gbps = z.number().nonnegative();

/** `profile --json`'s `measured`. */
export const MeasuredSchema = z.object({
  ram_copy_gbps: gbps,
  ram_read_gbps: gbps,
  disk_seq_read_gbps: gbps.nullable(),
  disk_rand_read_gbps: gbps.nullable(),
  disk_seq_read_warm_gbps: gbps.nullable(),
  disk_rand_read_warm_gbps: gbps.nullable(),
  disk_cold: z.boolean(),
  gpu_upload_gbps: gbps.nullable(),
  cpu_matvec_gbps: gbps,
  gpu_matvec_gbps: gbps.nullable(),
}).strict();

/** The whole machine profile. */
export const MachineSchema = z.object({
  moebench: z.string(),
  timestamp: z.string(),
  profile: z.enum(["apple-m", "strix-halo", "nvidia-discrete", "cpu-only"]),
  recognised: z.boolean(),
  reason: z.string(),
  hardware: Hardware,
  measured: MeasuredSchema,
  /** How each figure was taken (sizes, repetitions, medians): kept, not interpreted. */
  details: z.custom<MeasuredDetails>((value) => typeof value === "object" && value !== null),
  roofline: z.object({
    model: z.string(),
    tiers: z.array(
      z.object({
        tier: z.enum(["ram", "cpu-kernel", "gpu-kernel", "disk-experts"]),
        what: z.string(),
        gbps,
        bytesPerToken: z.number().nonnegative(),
        tokensPerSecond: z.number().nonnegative(),
      }).strict(),
    ).readonly(),
  }).strict().nullable(),
}).strict();
