// Prints one JSON line per record of the WARC files given, as warcio.js
// (webrecorder's reference reader) parses them: node warcio_records.mjs
// WARCIO_DIR FILE... Used by the Go tests as an independent reader.
import { createReadStream } from "node:fs";
import { createHash } from "node:crypto";
import { basename, join } from "node:path";
import { pathToFileURL } from "node:url";

const [dir, ...files] = process.argv.slice(2);
const { WARCParser } = await import(pathToFileURL(join(dir, "dist", "index.js")).href);

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
function base32(buf) {
  let bits = 0, value = 0, out = "";
  for (const b of buf) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  while (out.length % 8) out += "=";
  return out;
}

for (const file of files) {
  const parser = new WARCParser(createReadStream(file));
  for await (const record of parser) {
    const offset = parser.offset;
    const raw = await record.readFully(false);
    const sha1 = "sha1:" + base32(createHash("sha1").update(raw).digest());
    process.stdout.write(JSON.stringify({
      file: basename(file),
      offset,
      length: parser.recordLength,
      type: record.warcType,
      id: record.warcHeader("WARC-Record-ID"),
      uri: record.warcTargetURI || "",
      status: record.httpHeaders ? String(record.httpHeaders.statusCode || "") : "",
      payloadDigest: record.warcPayloadDigest || "",
      rawPayloadSha1: sha1,
    }) + "\n");
  }
}
