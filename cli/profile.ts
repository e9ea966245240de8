/**
 * `moebench profile`: what this machine is (detected facts with their sources), what it
 * measures (RAM, disk, GPU upload, CPU/GPU mat-vec), which hardware profile fits and why; with
 * `--model`, the model's decode roofline here; with `--peer stream`, C STREAM's copy beside
 * the probe's.
 * @module
 */
import { Command, Option } from "@commander-js/extra-typings";
import Table from "cli-table3";
import { openGGUF } from "../engine/gguf/read.ts";
import { inspectModel } from "../engine/model/inspect.ts";
import { streamCopy } from "../peers/stream/stream.ts";
import type { Fact, Hardware } from "../profiles/hardware.ts";
import { type MachineProfile, profileMachine } from "../profiles/machine.ts";
import { decodeBytesOf } from "../profiles/probe/roofline.ts";
import { atomicWrite } from "../util/atomic_write.ts";
import { formatBytes } from "../util/format.ts";
import { progressEnabled, stepProgress } from "../util/progress.ts";
import { printJson, UsageError } from "./common.ts";

/** The `profile` command. */
export function profileCommand() {
  return new Command("profile")
    .description("detect this machine, measure what MoE inference needs, choose its profile")
    .option("--quick", "a short run (under a minute): smaller arrays, fewer repetitions")
    .option("--out <file>", "write the machine profile JSON here")
    .option("--json", "print the machine profile as JSON")
    .option("--dir <folder>", "the folder models live in: its disk is measured", ".")
    .option("--model <file>", "also derive this GGUF model's decode roofline")
    .addOption(
      new Option("--peer <name>", "also run C STREAM's copy, to check the RAM copy probe")
        .choices(["stream"] as const),
    )
    .action(async (options) => {
      const folder = options.dir;
      const stat = await Deno.stat(folder).catch(() => null);
      if (!stat?.isDirectory) throw new UsageError(`--dir ${folder}: not a folder`);
      let model;
      if (options.model) {
        using gguf = await openGGUF(options.model);
        const bytes = decodeBytesOf(inspectModel(gguf));
        if (!bytes) {
          throw new UsageError(`${options.model}: its top-k is not in the metadata; no roofline`);
        }
        model = { path: options.model, ...bytes };
      }
      const progress = stepProgress("profile", progressEnabled(options.json === true));
      let machine: MachineProfile;
      try {
        machine = await profileMachine({
          folder,
          quick: options.quick === true,
          ...(model ? { model } : {}),
          onStep: (name, index, count) => {
            progress.step(name);
            progress.update(index, count);
          },
        });
      } finally {
        progress.stop();
      }
      const peer = options.peer === "stream"
        ? await streamCopy({
          arrayBytes: machine.details.ram_array_bytes,
          reps: machine.details.reps,
        })
        : null;
      const output = peer
        ? {
          ...machine,
          peers: {
            stream_copy_gbps: peer.best,
            stream_threads: peer.threads,
            probe_vs_stream: machine.measured.ram_copy_gbps / peer.best,
          },
        }
        : machine;
      if (options.out) {
        const text = new TextEncoder().encode(JSON.stringify(output, null, 2) + "\n");
        await atomicWrite(options.out, (sink) => sink.write(text));
      }
      if (options.json) {
        printJson(output);
        return;
      }
      console.log(renderProfile(machine));
      if (peer) {
        console.log(
          `C STREAM copy (${peer.threads} threads, same arrays): ${peer.best.toFixed(1)} GB/s; ` +
            `the probe reaches ${(100 * machine.measured.ram_copy_gbps / peer.best).toFixed(0)} %`,
        );
      }
      if (options.out) console.log(`wrote ${options.out}`);
    });
}

const gbps = (value: number | null) => value === null ? "n/a" : `${value.toFixed(2)} GB/s`;

/** A fact's value for people: bytes as sizes, lists joined, unknown as "unknown". */
function show(fact: Fact<unknown>, bytes = false): string {
  const value = fact.value;
  if (value === null) return "unknown";
  if (bytes && typeof value === "number") return formatBytes(value);
  if (Array.isArray(value)) return value.join(" ") || "none";
  return String(value);
}

/** The hardware facts as table rows: what, value, where it came from. */
function hardwareRows(hardware: Hardware): string[][] {
  const { cpu, memory, gpu, disk } = hardware;
  const rows: [string, Fact<unknown>, boolean?][] = [
    ["OS", hardware.os.release],
    ["CPU", cpu.model],
    ["cores (physical / logical)", {
      value: `${cpu.physicalCores.value ?? "?"} / ${cpu.logicalCores.value ?? "?"}`,
      source: cpu.physicalCores.source,
    }],
    ["SIMD", cpu.simd],
    ["L3 cache", cpu.l3Bytes, true],
    ["RAM (total / available)", {
      value: `${show(memory.totalBytes, true)} / ${show(memory.availableBytes, true)}`,
      source: memory.totalBytes.source,
    }],
  ];
  if (gpu) {
    rows.push(
      ["GPU", gpu.description],
      ["GPU vendor", gpu.vendor],
      ["GPU fallback adapter", gpu.fallback],
      ["GPU features", gpu.features],
      ["GPU memory model", gpu.memoryModel],
      ["GPU memory", gpu.memoryBytes, true],
      ["GPU largest binding", gpu.maxBindingBytes, true],
    );
  } else {
    rows.push(["GPU", { value: null, source: hardware.gpuUnavailable ?? "" }]);
  }
  rows.push(
    ["model folder", { value: disk.folder, source: "--dir" }],
    ["disk", {
      value: `${show(disk.device)} (${show(disk.kind)}, ${show(disk.filesystem)})`,
      source: disk.device.source,
    }],
    ["disk free", disk.freeBytes, true],
  );
  return rows.map(([what, fact, bytes]) => [what, show(fact, bytes), fact.source]);
}

/** The machine profile as text for a terminal. */
export function renderProfile(machine: MachineProfile): string {
  const facts = new Table({ head: ["hardware", "value", "source"] });
  facts.push(...hardwareRows(machine.hardware));
  const m = machine.measured;
  const d = machine.details;
  const diskNote = "skipped" in d.disk
    ? d.disk.skipped
    : `${formatBytes(d.disk.fileBytes)} file, ${formatBytes(d.disk.expertBytes)} random reads; ` +
      (m.disk_cold ? "page cache dropped (checked)" : `NOT cold: ${d.disk.coldFailure}`);
  const measured = new Table({ head: ["measured", "best", "how"] });
  measured.push(
    [
      "RAM copy (STREAM: read + written)",
      gbps(m.ram_copy_gbps),
      `2 × ${formatBytes(d.ram_array_bytes)}, ${d.threads} threads, median ${
        d.ram_copy.median.toFixed(2)
      }`,
    ],
    ["RAM read (SIMD)", gbps(m.ram_read_gbps), `median ${d.ram_read.median.toFixed(2)}`],
    ["CPU Q4_0 mat-vec", gbps(m.cpu_matvec_gbps), `median ${d.cpu_matvec.median.toFixed(2)}`],
    [
      "disk sequential, cold / warm",
      `${gbps(m.disk_seq_read_gbps)} / ${gbps(m.disk_seq_read_warm_gbps)}`,
      diskNote,
    ],
    [
      "disk expert-sized random, cold / warm",
      `${gbps(m.disk_rand_read_gbps)} / ${gbps(m.disk_rand_read_warm_gbps)}`,
      "",
    ],
    [
      "host → GPU upload",
      gbps(m.gpu_upload_gbps),
      "skipped" in d.gpu ? d.gpu.skipped : (d.gpu.fallback ? "fallback adapter" : ""),
    ],
    ["GPU Q4_0 mat-vec", gbps(m.gpu_matvec_gbps), ""],
  );
  const lines = [
    facts.toString(),
    measured.toString(),
    `profile: ${machine.profile}${machine.recognised ? "" : " (nearest)"} — ${machine.reason}`,
  ];
  if (machine.roofline) {
    const roof = new Table({ head: ["decode bound", "GB/s", "bytes/token", "tok/s at most"] });
    for (const tier of machine.roofline.tiers) {
      roof.push([
        tier.what,
        tier.gbps.toFixed(2),
        formatBytes(tier.bytesPerToken),
        tier.tokensPerSecond.toFixed(1),
      ]);
    }
    lines.push(`roofline of ${machine.roofline.model}:`, roof.toString());
  }
  return lines.join("\n");
}
