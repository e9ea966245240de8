// llama.cpp through node-llama-cpp, run by Node in its own process: moebench's Deno code asks
// for one command and reads one JSON answer on stdout. Keeping node-llama-cpp (and its native
// binaries) out of moebench's own dependency graph means users who never compare with llama.cpp
// never download it.
//
//   node worker.mjs generate '{"model":"m.gguf","prompt":"…","count":8,"threads":2}'
//   node worker.mjs tensors '{"model":"m.gguf"}'
//   node worker.mjs eval '{"model":"m.gguf","tokens":[1,5,9],"top":8,"threads":2,"flashAttention":false}'
//   node worker.mjs logprobs '{"model":"m.gguf","tokens":[1,5,9,7],"threads":2}'
//   node worker.mjs tokenize '{"model":"m.gguf","texts":["hello world"]}'
//   node worker.mjs info '{}'
import { getLlama, LlamaLogLevel, readGgufFileInfo } from "node-llama-cpp";

const [command, argumentsJson] = process.argv.slice(2);
const args = JSON.parse(argumentsJson ?? "{}");

/** llama.cpp, CPU only, prebuilt binaries only (never a build), quiet. */
const loadLlama = () => getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });

async function generate({ model: modelPath, prompt, count, threads, flashAttention = false }) {
  const llama = await loadLlama();
  const model = await llama.loadModel({ modelPath });
  // node-llama-cpp's default thread count oversubscribes small machines (~500 ms a token on
  // 2 cores instead of ~1 ms): the caller passes one thread per core
  const context = await model.createContext({ contextSize: 512, threads, flashAttention });
  const prompted = model.tokenize(prompt, false);
  const bos = model.tokens.bos;
  const input = bos !== null && model.tokens.shouldPrependBosToken ? [bos, ...prompted] : prompted;
  const generated = [];
  if (count > 0) {
    for await (const token of context.getSequence().evaluate(input, { temperature: 0 })) {
      generated.push(token);
      if (generated.length >= count) break;
    }
  }
  const text = model.detokenize(generated);
  await context.dispose();
  await model.dispose();
  return { promptTokens: prompted.map(Number), tokens: generated.map(Number), text };
}

// Teacher-forced: after each input token, llama.cpp's `top` highest raw logits, best first.
// node-llama-cpp turns flash attention on by default; its F16 accumulation differs from the
// plain attention moebench's numerics follow, so comparisons ask for it off.
// `batchSize` 1 feeds one token per decode call (llama.cpp's mat-vec kernels instead of its
// batched ones: the same function, summed in another order).
async function evaluate({ model: modelPath, tokens, top, threads, flashAttention, batchSize }) {
  const llama = await loadLlama();
  const model = await llama.loadModel({ modelPath });
  const contextSize = Math.max(256, tokens.length + 1);
  const context = await model.createContext({
    contextSize,
    threads,
    flashAttention,
    ...(batchSize ? { batchSize } : {}),
  });
  const request = { logits: { filter: { tokens: [], includeTop: top } } };
  const outputs = await context.getSequence().controlledEvaluate(
    tokens.map((token) => [token, { generateNext: request }]),
  );
  const result = outputs.map((output) => [...output.next.logits].slice(0, top));
  await context.dispose();
  await model.dispose();
  return { top: result };
}

// After each token but the last, log p(next token) under llama.cpp's full softmax.
async function logprobs({ model: modelPath, tokens, threads, flashAttention = false }) {
  const llama = await loadLlama();
  const model = await llama.loadModel({ modelPath });
  const contextSize = Math.max(256, tokens.length + 1);
  const context = await model.createContext({ contextSize, threads, flashAttention });
  // all logits: node-llama-cpp's totalLogitWeight only covers filtered tokens when filtering
  const items = tokens.map((token, i) =>
    i + 1 < tokens.length ? [token, { generateNext: { logits: true } }] : token
  );
  const outputs = await context.getSequence().controlledEvaluate(items);
  const result = outputs.slice(0, tokens.length - 1).map((output, i) => {
    const logits = [...output.next.logits.values()];
    const max = Math.max(...logits);
    const total = logits.reduce((sum, logit) => sum + Math.exp(logit - max), 0);
    return output.next.logits.get(tokens[i + 1]) - max - Math.log(total);
  });
  await context.dispose();
  await model.dispose();
  return result;
}

// Each text's token ids as llama.cpp tokenizes it: no BOS, special tokens treated as text.
async function tokenize({ model: modelPath, texts }) {
  const llama = await loadLlama();
  const model = await llama.loadModel({ modelPath, vocabOnly: true });
  const result = texts.map((text) => [...model.tokenize(text, false)].map(Number));
  await model.dispose();
  return result;
}

async function tensors({ model }) {
  const info = await readGgufFileInfo(model, { logWarnings: false });
  return info.fullTensorInfo.map((t) => ({
    name: t.name,
    shape: t.dimensions.map(Number),
    typeId: Number(t.ggmlType),
    offset: Number(t.fileOffset),
  }));
}

async function info() {
  const llama = await loadLlama();
  return {
    build: llama.buildType,
    release: llama.llamaCppRelease.release,
    cores: llama.cpuMathCores,
  };
}

const commands = { generate, eval: evaluate, logprobs, tokenize, tensors, info };
try {
  if (!commands[command]) throw new Error(`unknown command "${command}"`);
  process.stdout.write(JSON.stringify(await commands[command](args)));
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : error}\n`);
  process.exit(1);
}
