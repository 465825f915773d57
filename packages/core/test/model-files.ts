/**
 * Model files as editable JSON for tests that damage them: any model file (binary version 2 or
 * JSON version 1) as the version 1 document (arrays in base64), which `loadModel` still reads, so
 * a test edits a field and writes the JSON back. Read independently of the library's decoder.
 */
import { readFileSync } from 'node:fs';
import { Matrix } from '@boltzmann/tensor';
import { MODEL_MAGIC, encodeArray } from '@boltzmann/core';

type Doc = Record<string, any>;

/** The file as a version 1 document object. */
export function modelDocument(path: string): Doc {
  const bytes = readFileSync(path);
  if (!MODEL_MAGIC.every((b, i) => bytes[i] === b)) return JSON.parse(bytes.toString('utf8'));
  const headerBytes = bytes.readUInt32LE(8);
  const header = JSON.parse(bytes.subarray(16, 16 + headerBytes).toString('utf8'));
  const start = 16 + headerBytes;
  const toBase64 = (group: Record<string, any>) => {
    const out: Doc = {};
    for (const [name, e] of Object.entries(group)) {
      const [rows, cols] = e.shape;
      const width = e.dtype === 'float64' ? 8 : 4;
      const raw = bytes.subarray(start + e.offset, start + e.offset + rows * cols * width);
      const copy = new Uint8Array(raw.length);
      copy.set(raw);
      const data = e.dtype === 'float64' ? new Float64Array(copy.buffer) : new Float32Array(copy.buffer);
      out[name] = encodeArray(new Matrix(rows, cols, data));
    }
    return out;
  };
  const doc: Doc = { format: header.format, version: 1, model: header.model, sampleRng: header.sampleRng, parameters: toBase64(header.parameters) };
  if (header.training) {
    const t = header.training;
    doc.training = { ...t, optimizer: toBase64(t.optimizer), estimator: toBase64(t.estimator), regularizers: toBase64(t.regularizers ?? {}) };
  }
  return doc;
}

/** The file as the text of a version 1 model file (what `JSON.parse` of an old file gave). */
export function modelText(path: string): string {
  return `${JSON.stringify(modelDocument(path), null, 1)}\n`;
}
