/**
 * The decode roofline: a token reads every active weight once, so a tier that delivers B GB/s
 * bounds decode at B / (active bytes per token) tokens per second. Experts streamed from disk on
 * every token (an expert cache that never hits) bound it at the disk's random-read rate over the
 * routed experts' bytes per token.
 * @module
 */
import type { ModelSummary } from "../../engine/model/inspect.ts";

/** What a decode step of a model reads. */
export interface DecodeBytes {
  /** Every weight one token reads (dense weights plus the routed experts it uses). */
  readonly activeBytes: number;
  /** The routed experts' share of them (0 for a dense model). */
  readonly expertBytes: number;
}

/** One tier's bound. */
export interface RooflineTier {
  readonly tier: "ram" | "cpu-kernel" | "gpu-kernel" | "disk-experts";
  /** What the tier is, for people. */
  readonly what: string;
  readonly gbps: number;
  readonly bytesPerToken: number;
  readonly tokensPerSecond: number;
}

/** Measured rates the roofline uses (GB/s; null where not measured). */
export interface RooflineRates {
  readonly ramRead: number | null;
  readonly cpuMatVec: number | null;
  readonly gpuMatVec: number | null;
  readonly diskRandomRead: number | null;
}

/** Decode tok/s upper bounds of a model with `bytes` for each measured tier. */
export function roofline(rates: RooflineRates, bytes: DecodeBytes): RooflineTier[] {
  const tiers: RooflineTier[] = [];
  const add = (tier: RooflineTier["tier"], what: string, gbps: number | null, perToken: number) => {
    if (gbps === null || perToken <= 0) return;
    tiers.push({
      tier,
      what,
      gbps,
      bytesPerToken: perToken,
      tokensPerSecond: (gbps * 1e9) / perToken,
    });
  };
  add("ram", "every weight read from RAM at the read bandwidth", rates.ramRead, bytes.activeBytes);
  add(
    "cpu-kernel",
    "the CPU's Q4_0 mat-vec rate over every weight",
    rates.cpuMatVec,
    bytes.activeBytes,
  );
  add(
    "gpu-kernel",
    "the GPU's Q4_0 mat-vec rate over every weight",
    rates.gpuMatVec,
    bytes.activeBytes,
  );
  add(
    "disk-experts",
    "every routed expert read from disk each token (no cache hits)",
    rates.diskRandomRead,
    bytes.expertBytes,
  );
  return tiers;
}

/** What a decode step of a model reads, and one expert's bytes (null: top-k unknown). */
export function decodeBytesOf(
  summary: ModelSummary,
): { readonly bytes: DecodeBytes; readonly expertBytes: number } | null {
  const active = summary.activeBytesPerToken;
  if (active === null) return null;
  const experts = summary.experts;
  const perLayer = Object.values(experts?.bytesPerExpert ?? {});
  const expertBytes = perLayer.reduce((sum, bytes) => sum + bytes * (experts?.used ?? 0), 0);
  return {
    bytes: { activeBytes: active, expertBytes },
    expertBytes: perLayer.length > 0 ? Math.max(...perLayer) : 0,
  };
}
