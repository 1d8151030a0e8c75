// A save that shows its what-if first: the first press of Save previews the draft, and only a second press for
// that same draft saves it. Every change previews again (after a pause in typing) and asks again.
const PAUSE_MS = 700;

// form: the editor; button: its submit button; draft(): the draft as plain data; preview(): shows the what-if,
// resolves true when it could; save(): saves, resolves true when it did; labels: { save, confirm }.
export function previewBeforeSave({ form, button, draft, preview, save, labels }) {
  let previewed = null; // the draft (as JSON) whose what-if is on screen
  let timer;
  let queue = Promise.resolve();
  const ask = (text) => { button.textContent = text; };
  const once = async () => {
    const shown = JSON.stringify(draft());
    previewed = (await preview()) ? shown : null;
    ask(previewed === JSON.stringify(draft()) ? labels.confirm : labels.save);
  };
  // One preview at a time, in the order asked: a slow earlier one never paints over a later draft's.
  const run = () => { queue = queue.then(once); return queue; };
  const changed = () => {
    previewed = null;
    ask(labels.save);
    clearTimeout(timer);
    timer = setTimeout(run, PAUSE_MS);
  };
  form.addEventListener('input', changed);
  form.addEventListener('change', changed);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearTimeout(timer);
    if (previewed !== JSON.stringify(draft())) { await run(); return; }
    if (await save()) { previewed = null; ask(labels.save); }
  });
  // Rows added or removed by script fire no input event: the editor says so itself.
  return { changed, reset: () => { clearTimeout(timer); previewed = null; ask(labels.save); } };
}
