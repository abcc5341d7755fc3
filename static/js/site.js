// Site-wide progressive enhancement: theme toggle. Feature modules are imported here.
const THEMES = ["auto", "light", "dark"];

function systemTheme() {
  return window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

function applyTheme(choice) {
  const root = document.documentElement;
  root.setAttribute("data-theme-choice", choice);
  root.setAttribute("data-bs-theme", choice === "auto" ? systemTheme() : choice);
  for (const button of document.querySelectorAll("[data-theme-toggle]")) {
    button.setAttribute("aria-label", `Colour theme: ${choice}`);
    button.title = `Colour theme: ${choice} (click to change)`;
  }
}

function setupThemeToggle() {
  let choice = document.documentElement.getAttribute("data-theme-choice") || "auto";
  applyTheme(choice);
  for (const button of document.querySelectorAll("[data-theme-toggle]")) {
    button.addEventListener("click", () => {
      choice = THEMES[(THEMES.indexOf(choice) + 1) % THEMES.length];
      try {
        if (choice === "auto") localStorage.removeItem("theme");
        else localStorage.setItem("theme", choice);
      } catch (e) { /* storage blocked: the choice lasts for this page */ }
      applyTheme(choice);
    });
  }
  window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
    if (choice === "auto") applyTheme("auto");
  });
}

setupThemeToggle();
