// A "Copy" button on every code block, with "Copied" feedback for eyes and screen
// readers. Prompts ("$ ", ">>> ", "... ") are left out of what is copied: in a block
// that has prompts, only the prompted lines (the commands) are copied, not their output.

const BLOCKS = ".lesson-body .highlight, .runnable .highlight";
const PROMPT = /^(?:\$|>>>|\.\.\.|\(venv\) \$) ?/;
const FEEDBACK_MS = 2000;

/** The text a reader wants on the clipboard for one code block. */
export function copyableText(code) {
  const lines = code.replace(/\n$/, "").split("\n");
  const prompted = lines.filter((line) => PROMPT.test(line));
  if (prompted.length === 0) return lines.join("\n");
  return prompted.map((line) => line.replace(PROMPT, "")).join("\n");
}

async function writeClipboard(text) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  // Plain-http hosts have no Clipboard API: fall back to a hidden textarea.
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.className = "visually-hidden";
  document.body.append(area);
  area.select();
  const copied = document.execCommand("copy");
  area.remove();
  if (!copied) throw new Error("copy refused");
}

function announcer() {
  let region = document.getElementById("copy-status");
  if (!region) {
    region = document.createElement("div");
    region.id = "copy-status";
    region.className = "visually-hidden";
    region.setAttribute("role", "status");
    document.body.append(region);
  }
  return region;
}

function addButton(block) {
  const pre = block.querySelector("pre");
  if (!pre || block.querySelector(":scope > .copy-button")) return;
  const button = document.createElement("button");
  button.type = "button";
  button.className = "copy-button";
  button.textContent = "Copy";
  button.setAttribute("aria-label", "Copy code");
  let timer;
  button.addEventListener("click", async () => {
    let message;
    try {
      await writeClipboard(copyableText(pre.innerText));
      message = "Copied";
      button.classList.add("is-copied");
    } catch {
      message = "Press Ctrl+C to copy";
      const range = document.createRange();
      range.selectNodeContents(pre);
      getSelection().removeAllRanges();
      getSelection().addRange(range);
    }
    button.textContent = message;
    button.setAttribute("aria-label", message);
    announcer().textContent = message === "Copied" ? "Code copied to the clipboard" : message;
    clearTimeout(timer);
    timer = setTimeout(() => {
      button.textContent = "Copy";
      button.setAttribute("aria-label", "Copy code");
      button.classList.remove("is-copied");
      announcer().textContent = "";
    }, FEEDBACK_MS);
  });
  block.append(button);
}

for (const block of document.querySelectorAll(BLOCKS)) addButton(block);
