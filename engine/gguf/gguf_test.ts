import assert from "node:assert/strict";
import { GGUFError } from "./errors.ts";
import { openGGUF, parseGGUF } from "./read.ts";
import { memorySource } from "./source.ts";
import { type Metadata, type MetadataValue, numbers, str, strings, u32 } from "./types.ts";
import { type TensorToWrite, writeGGUF } from "./write.ts";

const EVERY_VALUE_TYPE: [string, MetadataValue][] = [
  ["general.architecture", str("llama")],
  ["test.u8", { type: "u8", value: 255 }],
  ["test.i8", { type: "i8", value: -128 }],
  ["test.u16", { type: "u16", value: 65535 }],
  ["test.i16", { type: "i16", value: -32768 }],
  ["test.u32", u32(4294967295)],
  ["test.i32", { type: "i32", value: -2147483648 }],
  ["test.f32", { type: "f32", value: Math.fround(0.1) }],
  ["test.f64", { type: "f64", value: 0.1 }],
  ["test.bool", { type: "bool", value: true }],
  ["test.u64", { type: "u64", value: 18446744073709551615n }],
  ["test.i64", { type: "i64", value: -9223372036854775808n }],
  ["test.string", str("héllo ✓ 🧪")],
  ["test.empty", str("")],
  ["test.strings", strings(["<s>", "▁the", "", "🧪"])],
  ["test.floats", numbers("f32", [1.5, -2, 0])],
  ["test.ints", numbers("i32", [-1, 0, 1])],
  ["test.bools", { type: "array", itemType: "bool", value: [true, false] }],
  ["test.u64s", { type: "array", itemType: "u64", value: [0n, 2n ** 64n - 1n] }],
  ["test.empty_array", strings([])],
];

function tensorsOf(count: number): TensorToWrite[] {
  return Array.from({ length: count }, (_, i) => {
    const shape = i % 2 ? [32, 3] : [5];
    const typeName = i % 2 ? "Q8_0" : "F32";
    const bytes = i % 2 ? 34 * 3 : 20;
    return {
      name: `t.${i}`,
      typeName,
      shape,
      data: Uint8Array.from({ length: bytes }, (_, j) => (i * 31 + j) & 0xff),
    };
  });
}

async function roundTrip(metadata: Metadata, tensors: TensorToWrite[]) {
  const path = await Deno.makeTempFile({ suffix: ".gguf" });
  try {
    await writeGGUF(path, { metadata, tensors });
    using gguf = await openGGUF(path);
    return {
      metadata: gguf.metadata,
      alignment: gguf.alignment,
      dataOffset: gguf.dataOffset,
      tensors: gguf.tensors,
      data: await Promise.all(gguf.tensors.map((t) => gguf.readTensor(t))),
    };
  } finally {
    await Deno.remove(path);
  }
}

Deno.test("writeGGUF() then openGGUF() round-trips every metadata type", async () => {
  const back = await roundTrip(new Map(EVERY_VALUE_TYPE), tensorsOf(3));
  assert.deepStrictEqual([...back.metadata], EVERY_VALUE_TYPE);
});

Deno.test("tensors round-trip with their data aligned to general.alignment", async () => {
  for (const alignment of [32, 1, 64, 4096]) {
    const metadata = new Map([...EVERY_VALUE_TYPE, ["general.alignment", u32(alignment)]]);
    const tensors = tensorsOf(5);
    const back = await roundTrip(metadata, tensors);
    assert.equal(back.alignment, alignment);
    assert.equal(back.dataOffset % alignment, 0);
    for (const [i, t] of back.tensors.entries()) {
      assert.equal(t.offset % alignment, 0);
      assert.equal(t.name, tensors[i]!.name);
      assert.equal(t.typeName, tensors[i]!.typeName);
      assert.deepStrictEqual(t.shape, tensors[i]!.shape);
      assert.deepStrictEqual(back.data[i], tensors[i]!.data);
    }
  }
});

Deno.test("writeGGUF() streams chunked tensor data and rejects a wrong byte count", async () => {
  const path = await Deno.makeTempFile({ suffix: ".gguf" });
  try {
    const chunks = function* () {
      yield new Uint8Array(8).fill(1);
      yield new Uint8Array(8).fill(2);
    };
    await writeGGUF(path, {
      metadata: new Map(),
      tensors: [{ name: "x", typeName: "F32", shape: [4], data: chunks }],
    });
    using gguf = await openGGUF(path);
    assert.deepStrictEqual(
      await gguf.readTensor(gguf.tensor("x")),
      Uint8Array.from([1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2]),
    );
    const before = await Deno.readFile(path);
    await assert.rejects(
      writeGGUF(path, {
        metadata: new Map(),
        tensors: [{ name: "x", typeName: "F32", shape: [8], data: chunks }],
      }),
      /needs 32 bytes of data, got 16/,
    );
    assert.deepStrictEqual(await Deno.readFile(path), before, "a failed write leaves the file");
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("GGUFFile accessors name the key and the type they found", async () => {
  const path = await Deno.makeTempFile({ suffix: ".gguf" });
  try {
    await writeGGUF(path, { metadata: new Map(EVERY_VALUE_TYPE), tensors: [] });
    using gguf = await openGGUF(path);
    assert.equal(gguf.getNumber("test.u32"), 4294967295);
    assert.equal(gguf.getNumberOr("test.missing", 7), 7);
    assert.deepStrictEqual(gguf.getStrings("test.strings"), ["<s>", "▁the", "", "🧪"]);
    assert.deepStrictEqual(gguf.getNumbers("test.ints"), [-1, 0, 1]);
    assert.throws(() => gguf.getString("test.u8"), /"test.u8" should be a string, but is u8/);
    assert.throws(() => gguf.getNumber("test.u64"), /should be a number/);
    assert.throws(() => gguf.getNumber("nope"), /metadata key "nope" is missing/);
    assert.throws(() => gguf.tensor("blk.0.x"), /tensor "blk.0.x" is missing/);
  } finally {
    await Deno.remove(path);
  }
});

// --- malformed files: each gets a GGUFError that says what is wrong ---

/** Little-endian GGUF bytes built by hand, for files the writer would refuse to produce. */
function handmade(parts: (number | bigint | string | Uint8Array)[][]): Uint8Array {
  const out: number[] = [];
  for (const [kind, value] of parts as [string, number | bigint | string | Uint8Array][]) {
    const view = new DataView(new ArrayBuffer(8));
    if (kind === "u32") {
      view.setUint32(0, value as number, true);
      out.push(...new Uint8Array(view.buffer, 0, 4));
    } else if (kind === "u64") {
      view.setBigUint64(0, BigInt(value as number), true);
      out.push(...new Uint8Array(view.buffer));
    } else if (kind === "str") {
      const bytes = new TextEncoder().encode(value as string);
      view.setBigUint64(0, BigInt(bytes.length), true);
      out.push(...new Uint8Array(view.buffer), ...bytes);
    } else {
      out.push(...(value as Uint8Array));
    }
  }
  return Uint8Array.from(out);
}

const header = (tensors: number, kvs: number) => [
  ["raw", new TextEncoder().encode("GGUF")],
  ["u32", 3],
  ["u64", tensors],
  ["u64", kvs],
];

const MALFORMED: [string, Uint8Array, RegExp][] = [
  ["empty file", new Uint8Array(), /too small for a GGUF header/],
  [
    "wrong magic",
    handmade([["raw", new TextEncoder().encode("GGJT")], ["u32", 3], ["u64", 0], ["u64", 0]]),
    /magic is "GGJT", expected "GGUF" \(at byte 0\)/,
  ],
  [
    "version 1",
    handmade([["raw", new TextEncoder().encode("GGUF")], ["u32", 1], ["u64", 0], ["u64", 0]]),
    /version 1 is not supported/,
  ],
  [
    "big-endian",
    handmade([["raw", new TextEncoder().encode("GGUF")], ["u32", 0x03000000], ["u64", 0], [
      "u64",
      0,
    ]]),
    /big-endian/,
  ],
  ["huge tensor count", handmade(header(2 ** 62, 0)), /tensor count \d+ is impossible/],
  ["huge metadata count", handmade(header(0, 2 ** 40)), /metadata count \d+ is impossible/],
  [
    "huge key length",
    handmade([...header(0, 1), ["u64", 2n ** 63n]]),
    /key in metadata entry 0 has length 9223372036854775808/,
  ],
  [
    "unknown value type",
    handmade([...header(0, 1), ["str", "a.b"], ["u32", 13], ["u32", 0]]),
    /"a.b" has an unknown value type/,
  ],
  [
    "nested array",
    handmade([...header(0, 1), ["str", "a.b"], ["u32", 9], ["u32", 9], ["u64", 0]]),
    /"a.b" is a nested array/,
  ],
  [
    "huge array",
    handmade([...header(0, 1), ["str", "a.b"], ["u32", 9], ["u32", 8], ["u64", 2 ** 50]]),
    /array length of "a.b" \d+ is impossible/,
  ],
  [
    "duplicate key",
    handmade([...header(0, 2), ["str", "k"], ["u32", 4], ["u32", 1], ["str", "k"], ["u32", 4], [
      "u32",
      1,
    ]]),
    /metadata key "k" appears twice/,
  ],
  [
    "bad alignment",
    handmade([...header(0, 1), ["str", "general.alignment"], ["u32", 4], ["u32", 24], [
      "u64",
      0,
    ]]),
    /general.alignment 24 is not a power of two/,
  ],
  [
    "unknown tensor type",
    handmade([...header(1, 0), ["str", "w"], ["u32", 1], ["u64", 32], ["u32", 99], ["u64", 0]]),
    /tensor "w" has unknown ggml type id 99/,
  ],
  [
    "five dimensions",
    handmade([...header(1, 0), ["str", "w"], ["u32", 5], ["u64", 1], ["u64", 1], ["u64", 1]]),
    /tensor "w" has 5 dimensions/,
  ],
  [
    "element count overflow",
    handmade([...header(1, 0), ["str", "w"], ["u32", 2], ["u64", 2 ** 32], ["u64", 2 ** 32], [
      "u32",
      0,
    ], ["u64", 0]]),
    /tensor "w" has too many elements/,
  ],
  [
    "row not a whole number of blocks",
    handmade([...header(1, 0), ["str", "w"], ["u32", 1], ["u64", 33], ["u32", 2], ["u64", 0]]),
    /rows of 33 elements, not a multiple of its block size 32/,
  ],
  [
    "misaligned tensor offset",
    handmade([...header(1, 0), ["str", "w"], ["u32", 1], ["u64", 1], ["u32", 0], ["u64", 3]]),
    /data offset 3 is not aligned to 32/,
  ],
  [
    "tensor data past the end",
    handmade([...header(1, 0), ["str", "w"], ["u32", 1], ["u64", 1024], ["u32", 0], ["u64", 0]]),
    /tensor "w" data \[\d+, \d+\) extends past the end of the file/,
  ],
  [
    "duplicate tensor",
    handmade([
      ...header(2, 0),
      ...[0, 1].flatMap(() => [["str", "w"], ["u32", 1], ["u64", 1], ["u32", 0], ["u64", 0]]),
    ]),
    /tensor "w" appears twice/,
  ],
  [
    "truncated inside a key",
    handmade([...header(0, 1), ["u64", 10], ["raw", new TextEncoder().encode("abc")]]),
    /key in metadata entry 0 has length 10: 3 bytes remain/,
  ],
];

for (const [what, bytes, expected] of MALFORMED) {
  Deno.test(`parseGGUF() rejects a file with ${what}`, async () => {
    const error = await parseGGUF(memorySource(bytes, "bad.gguf")).then(
      () => assert.fail("parsed"),
      (e) => e,
    );
    assert.ok(error instanceof GGUFError, `${error}`);
    assert.match(error.message, /^Cannot read GGUF file "bad.gguf": /);
    assert.match(error.message, expected);
    assert.ok(!error.message.includes("\n"), "one line");
  });
}
