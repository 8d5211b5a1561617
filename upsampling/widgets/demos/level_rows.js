// Per-level controls for chapters 1 and 4's demos: one row of integer inputs per level
// (an encoder level, a stacked layer), as many rows as the levels in use, so that no
// hidden control is left on the page. Each input is labelled with the package's argument
// name (kernel_size, stride, padding) inside a group labelled "level 1", "layer 2"...
// and works like live_ui.js's integer controls: a value out of range is marked invalid
// and not applied.

/**
 * Builds the rows in `parent`; returns sync(settings), to call from redraw.
 * @param demo the live_ui Demo
 * @param {HTMLElement} parent
 * @param {{count: (s) => number, name: (i) => string,
 *          fields: {key, min, max, get: (s, i) => number, set: (v, s, i) => object}[]}} spec
 */
export function levelRows(demo, parent, spec) {
  const rows = [];

  function makeRow(i) {
    const group = document.createElement("div");
    group.className = "live-axis";
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", spec.name(i));
    const title = document.createElement("span");
    title.className = "live-axis-name";
    title.setAttribute("aria-hidden", "true");
    title.textContent = spec.name(i);
    group.append(title);
    const inputs = spec.fields.map((field) => {
      const input = document.createElement("input");
      input.type = "number";
      input.step = "1";
      input.min = String(field.min);
      input.max = String(field.max);
      input.setAttribute("aria-label", field.key);
      input.dataset.arg = field.key;
      input.addEventListener("input", () => {
        const v = Number(input.value);
        const ok = input.value !== "" && Number.isInteger(v) && v >= field.min && v <= field.max;
        if (!ok) {
          input.setAttribute("aria-invalid", "true");
          return;
        }
        input.removeAttribute("aria-invalid");
        if (v !== field.get(demo.settings, i)) demo.set(field.set(v, demo.settings, i), input);
      });
      input.addEventListener("blur", () => sync(demo.settings));
      const label = document.createElement("label");
      label.className = "live-control";
      const name = document.createElement("span");
      name.className = "live-name";
      name.textContent = field.key;
      label.append(name, input);
      group.append(label);
      return input;
    });
    parent.append(group);
    return { group, inputs };
  }

  function sync(s) {
    const n = spec.count(s);
    while (rows.length < n) rows.push(makeRow(rows.length));
    while (rows.length > n) rows.pop().group.remove();
    rows.forEach(({ inputs }, i) => {
      spec.fields.forEach((field, j) => {
        const v = field.get(s, i);
        const input = inputs[j];
        if (document.activeElement === input && Number(input.value) === v) return;
        if (input.value !== String(v)) input.value = String(v);
        input.removeAttribute("aria-invalid");
      });
    });
  }

  return sync;
}
