// Parse every ```mermaid block of the Markdown files named on the command line with Mermaid's own
// parser (in jsdom: Mermaid needs a DOM even to parse). Prints {"blocks": n, "errors": [...]}.
import { readFileSync } from "node:fs";
import { JSDOM } from "jsdom";

const dom = new JSDOM("<!DOCTYPE html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import("mermaid");

let blocks = 0;
const errors = [];
for (const file of process.argv.slice(2)) {
  const text = readFileSync(file, "utf8");
  for (const match of text.matchAll(/```mermaid\n([\s\S]*?)```/g)) {
    blocks++;
    try {
      await mermaid.parse(match[1]);
    } catch (error) {
      errors.push(`${file}: ${String(error).split("\n").slice(0, 4).join(" ")}`);
    }
  }
}
console.log(JSON.stringify({ blocks, errors }));
