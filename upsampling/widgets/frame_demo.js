// Front-end of upsampling.widgets.FrameDemo (an anywidget).
//
// Every figure the demo can show was drawn in Python beforehand and sits in the model's
// `frames` list (data URLs, row-major over the controls). The controls only pick which
// frame to show, so the demo works the same with a kernel (JupyterLab) and without one
// (the built book, where the ipywidgets HTML manager renders the saved widget state).

function flatIndex(controls, selection) {
  let index = 0;
  for (const control of controls) {
    index = index * control.labels.length + selection[control.name];
  }
  return index;
}

function makeSlider(control, selection, onChange) {
  const input = document.createElement("input");
  input.type = "range";
  input.min = "0";
  input.max = String(control.labels.length - 1);
  input.step = "1";
  input.value = String(selection[control.name]);
  input.setAttribute("aria-label", control.label);
  const readout = document.createElement("output");
  readout.className = "upsampling-demo-readout";
  readout.textContent = control.labels[selection[control.name]];
  input.addEventListener("input", () => {
    const i = Number(input.value);
    readout.textContent = control.labels[i];
    input.setAttribute("aria-valuetext", control.labels[i]);
    onChange(control.name, i);
  });
  return [input, readout];
}

function makeButtons(control, selection, onChange) {
  const group = document.createElement("div");
  group.className = "upsampling-demo-buttons";
  group.setAttribute("role", "radiogroup");
  group.setAttribute("aria-label", control.label);
  const buttons = control.labels.map((label, i) => {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = label;
    button.setAttribute("role", "radio");
    button.dataset.option = String(i);
    button.addEventListener("click", () => {
      buttons.forEach((b, j) => b.setAttribute("aria-checked", String(i === j)));
      onChange(control.name, i);
    });
    button.setAttribute("aria-checked", String(i === selection[control.name]));
    group.appendChild(button);
    return button;
  });
  return [group];
}

function makeDropdown(control, selection, onChange) {
  const select = document.createElement("select");
  select.setAttribute("aria-label", control.label);
  control.labels.forEach((label, i) => {
    const option = document.createElement("option");
    option.value = String(i);
    option.textContent = label;
    select.appendChild(option);
  });
  select.value = String(selection[control.name]);
  select.addEventListener("change", () => onChange(control.name, Number(select.value)));
  return [select];
}

const MAKERS = { slider: makeSlider, buttons: makeButtons, dropdown: makeDropdown };

// Keys typed into the demo stay in it: in JupyterLab, a notebook in command mode would
// take a slider's arrows (see keepKeysInDemo in live_ui.js).
function keepKeysInDemo(event) {
  if (!event.ctrlKey && !event.altKey && !event.metaKey) event.stopPropagation();
}

function render({ model, el }) {
  el.addEventListener("keydown", keepKeysInDemo);
  const controls = model.get("controls");
  const frames = model.get("frames");
  const captions = model.get("captions");
  const selection = Object.assign({}, model.get("selection"));

  const root = document.createElement("div");
  root.className = "upsampling-demo";
  root.dataset.demoKind = "frames";
  root.dataset.frameCount = String(frames.length);

  const title = model.get("title");
  if (title) {
    const heading = document.createElement("div");
    heading.className = "upsampling-demo-title";
    heading.textContent = title;
    root.appendChild(heading);
  }

  const bar = document.createElement("div");
  bar.className = "upsampling-demo-controls";
  root.appendChild(bar);

  const figure = document.createElement("div");
  figure.className = "upsampling-demo-figure";
  const img = document.createElement("img");
  img.className = "upsampling-demo-frame";
  figure.appendChild(img);
  const caption = document.createElement("div");
  caption.className = "upsampling-demo-caption";
  caption.setAttribute("aria-live", "polite");
  figure.appendChild(caption);
  root.appendChild(figure);

  // Decoded images, one per frame, made on first use and kept: switching back to a
  // frame shown before costs nothing.
  const decoded = new Map();
  function decodedFrame(i) {
    if (!decoded.has(i)) {
      const image = new Image();
      image.src = frames[i];
      decoded.set(i, image.decode().then(() => image));
    }
    return decoded.get(i);
  }

  let shown = -1;
  function show() {
    const start = performance.now();
    const i = flatIndex(controls, selection);
    if (i === shown) return;
    shown = i;
    root.dataset.frameIndex = String(i);
    delete root.dataset.responseMs;
    decodedFrame(i).then(() => {
      if (shown !== i) return;
      img.src = frames[i];
      img.alt = captions[i] || (title ? title : "demo figure");
      caption.textContent = captions[i] || "";
      requestAnimationFrame(() => {
        root.dataset.responseMs = (performance.now() - start).toFixed(1);
      });
    });
  }

  function onChange(name, index) {
    selection[name] = index;
    show();
    // With a kernel this keeps `FrameDemo.selection` current; a static page has no
    // kernel to tell, and saving there throws, which does not matter.
    try {
      model.set("selection", Object.assign({}, selection));
      model.save_changes();
    } catch (error) {
      /* no kernel: nothing to sync */
    }
  }

  for (const control of controls) {
    const row = document.createElement("div");
    row.className = "upsampling-demo-control";
    row.dataset.control = control.name;
    row.dataset.kind = control.kind;
    const name = document.createElement("span");
    name.className = "upsampling-demo-label";
    name.textContent = control.label;
    row.appendChild(name);
    for (const node of MAKERS[control.kind](control, selection, onChange)) {
      row.appendChild(node);
    }
    bar.appendChild(row);
  }

  el.appendChild(root);
  show();
}

export default { render };
