/**
 * Records the llama.cpp fixtures that `llama_cpp_fixtures_test.ts` compares moebench against:
 * for every synthetic architecture and file type, llama.cpp's teacher-forced top logits (and how
 * far llama.cpp drifts from itself with flash attention on, or fed one token at a time); for every vocabulary, llama.cpp's
 * tokenization of the test corpus.
 *
 *     deno run -A tests/record_llama_cpp_fixtures.ts [--tokens-only]
 *
 * Run it after a change to `synth` or the corpus (the tests say when a model's hash no longer
 * matches its fixture), and commit the JSON it writes.
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { atomicWrite } from "../util/atomic_write.ts";
import {
  evalWithLlamaCpp,
  llamaCppInfo,
  tokenizeWithLlamaCpp,
} from "../peers/llama_cpp/llama_cpp.ts";
import { logitAgreement } from "./_logit_agreement.ts";
import {
  buildFixtureModel,
  buildVocabularyModel,
  corpus,
  evalTokens,
  FIXTURE_TOP,
  FIXTURES,
  LOGIT_PRESETS,
  LOGIT_TYPES,
  type LogitFixture,
  logitFixtureName,
  MODEL_SEED,
  sha256File,
  TOKENIZER_CASES,
  type TokenizerFixture,
  tokenizerFixtureName,
} from "./_llama_cpp_cases.ts";

/** Enough of flash attention's logits to hold the other run's top-3 at every position. */
const SELF_TOP = 64;

const { values: args } = parseArgs({ options: { "tokens-only": { type: "boolean" } } });
const root = fileURLToPath(FIXTURES);
const { release } = await llamaCppInfo();
const dir = await Deno.makeTempDir({ prefix: "moebench-fixtures-" });
try {
  for (const preset of args["tokens-only"] ? [] : LOGIT_PRESETS) {
    for (const type of LOGIT_TYPES) {
      const path = await buildFixtureModel(dir, preset, type);
      const tokens = evalTokens();
      const top = await evalWithLlamaCpp(path, tokens, FIXTURE_TOP);
      // llama.cpp's own drift: the worse of two runs that sum the same function in other orders
      const flash = await evalWithLlamaCpp(path, tokens, SELF_TOP, { flashAttention: true });
      const oneByOne = await evalWithLlamaCpp(path, tokens, SELF_TOP, { batchSize: 1 });
      const drifts = [flash, oneByOne].map((run) => logitAgreement(run.map(sparseLogits), top));
      const self = {
        top1Agreement: Math.min(...drifts.map((drift) => drift.top1Agreement)),
        meanTop3Delta: Math.max(...drifts.map((drift) => drift.meanTop3Delta)),
      };
      const fixture: LogitFixture = {
        preset,
        type,
        seed: MODEL_SEED,
        sha256: await sha256File(path),
        llamaCpp: release,
        tokens,
        top,
        selfAgreement: self,
      };
      await writeJson(logitFixtureName(preset, type), fixture, "top");
      console.log(`${preset} ${type}: llama.cpp vs itself ${JSON.stringify(drifts)}`);
    }
  }
  for (const vocabulary of TOKENIZER_CASES) {
    const path = await buildVocabularyModel(dir, vocabulary);
    const texts = corpus();
    const fixture: TokenizerFixture = {
      preset: vocabulary.preset,
      tokenizer: vocabulary.tokenizer,
      ...(vocabulary.pre ? { pre: vocabulary.pre } : {}),
      llamaCpp: release,
      texts,
      ids: await tokenizeWithLlamaCpp(path, texts),
    };
    await writeJson(tokenizerFixtureName(vocabulary), fixture, "ids");
    console.log(`${vocabulary.description}: ${texts.length} texts tokenized`);
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}

/** Full-vocabulary logits from a top list (absent tokens far below every listed one). */
function sparseLogits(pairs: [number, number][]): Float32Array {
  const logits = new Float32Array(Math.max(...pairs.map(([id]) => id)) + 1).fill(-1e9);
  for (const [id, logit] of pairs) logits[id] = logit;
  return logits;
}

/** Writes `value` as JSON with one line per item of its `listKey` array, for readable diffs. */
async function writeJson(name: string, value: object, listKey: string): Promise<void> {
  const entries = Object.entries(value).map(([key, item]) =>
    key === listKey
      ? `  ${JSON.stringify(key)}: [\n${
        (item as unknown[]).map((row) => `    ${JSON.stringify(row)}`).join(",\n")
      }\n  ]`
      : `  ${JSON.stringify(key)}: ${JSON.stringify(item)}`
  );
  const path = join(root, name);
  await Deno.mkdir(join(path, ".."), { recursive: true });
  await atomicWrite(path, async (sink) => {
    await sink.write(new TextEncoder().encode(`{\n${entries.join(",\n")}\n}\n`));
  });
}
