// @vitest-environment happy-dom
// The demo's one-field form: a fast command changes nothing on the page until it is done (no
// frame spent on a busy button), a second submit meanwhile is ignored, and a slow one shows
// its button busy.
import { act } from "react";
import { createRoot, type Root } from "react-dom/client";
import { afterEach, expect, it, vi } from "vitest";
import { OneFieldForm } from "./one-field-form.tsx";

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

let root: Root | undefined;
afterEach(() => {
  act(() => root?.unmount());
  root = undefined;
  vi.useRealTimers();
});

/** The form, whose command runs until the returned `finish` is called. */
function renderForm() {
  const submitted: string[] = [];
  const finishers: Array<(ok: boolean) => void> = [];
  let running = false;
  const container = document.createElement("div");
  document.body.append(container);
  root = createRoot(container);
  const render = () =>
    root!.render(
      <OneFieldForm
        label="Title"
        placeholder="New"
        button="Add"
        running={running}
        error={undefined}
        submit={(text) => {
          submitted.push(text);
          running = true;
          render();
          return new Promise<boolean>((resolve) =>
            finishers.push((ok) => {
              running = false;
              render();
              resolve(ok);
            }),
          );
        }}
      />,
    );
  act(render);
  const input = container.querySelector("input")!;
  const button = container.querySelector("button")!;
  const type = (value: string) =>
    act(() => {
      const setValue = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value")!.set!;
      setValue.call(input, value);
      input.dispatchEvent(new Event("input", { bubbles: true }));
    });
  const submit = () => act(() => button.click());
  const finish = (ok: boolean) => act(async () => finishers.shift()!(ok));
  return { input, button, submitted, type, submit, finish };
}

it("keeps the button as it is while a fast command runs, and ignores a second submit", async () => {
  vi.useFakeTimers();
  const form = renderForm();
  form.type("Write docs");
  form.submit();
  form.submit();
  expect(form.submitted).toEqual(["Write docs"]);
  expect(form.button.disabled).toBe(false);
  await form.finish(true);
  expect(form.input.value).toBe("");
  form.type("Next");
  form.submit();
  expect(form.submitted).toEqual(["Write docs", "Next"]);
});

it("shows the button busy once a command is slow, and keeps the text of a refused one", async () => {
  vi.useFakeTimers();
  const form = renderForm();
  form.type("Write docs");
  form.submit();
  act(() => vi.advanceTimersByTime(200));
  expect(form.button.disabled).toBe(true);
  await form.finish(false);
  expect(form.button.disabled).toBe(false);
  expect(form.input.value).toBe("Write docs");
});
