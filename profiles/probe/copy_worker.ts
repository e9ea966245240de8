/**
 * One thread of the STREAM-style copy probe: copies its slice of the source array into the
 * destination each time it is told to, and answers when done.
 * @module
 */
/// <reference lib="deno.worker" />

/** What the probe sends first: the shared arrays and this thread's slice. */
export interface CopySlice {
  readonly source: SharedArrayBuffer;
  readonly target: SharedArrayBuffer;
  readonly start: number;
  readonly end: number;
}

let copy: (() => void) | null = null;

self.onmessage = (event: MessageEvent<CopySlice | "copy">) => {
  if (event.data !== "copy") {
    const { source, target, start, end } = event.data;
    const from = new Uint8Array(source, start, end - start);
    const to = new Uint8Array(target);
    copy = () => to.set(from, start);
  } else {
    copy!();
  }
  self.postMessage("done");
};
