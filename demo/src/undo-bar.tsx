import { useUndo } from "@chronicle/react";
import { useCallback, useEffect, useState } from "react";

/**
 * Undo / Redo for this user's own changes on this device (other people's changes stay), with
 * the next step's label, and Ctrl/Cmd+Z, Ctrl/Cmd+Shift+Z (or Ctrl+Y) anywhere but in a text
 * input. A step that no longer applies (someone deleted the card meanwhile) says why.
 */
export function UndoBar() {
  const controls = useUndo();
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const { undo, redo } = controls;

  const run = useCallback(
    async (direction: "undo" | "redo") => {
      const outcome = await (direction === "undo" ? undo() : redo());
      setNotice(
        outcome.status === "skipped"
          ? `Skipped ${direction} of “${outcome.label}”: ${outcome.reason}`
          : outcome.status === "done" && outcome.skipped
            ? `Left out of “${outcome.label}”: ${outcome.skipped
                .map((part) => `${part.label} (${part.reason})`)
                .join(", ")}`
            : undefined,
      );
    },
    [undo, redo],
  );

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (!(event.ctrlKey || event.metaKey) || event.altKey) return;
      const key = event.key.toLowerCase();
      const wanted = key === "z" ? (event.shiftKey ? "redo" : "undo") : key === "y" ? "redo" : "";
      if (!wanted) return;
      // A one-line input (the new card's title) keeps the browser's own text undo.
      if (event.target instanceof HTMLInputElement && event.target.type === "text") return;
      event.preventDefault();
      void run(wanted);
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [run]);

  return (
    <div className="undo-bar">
      <button
        type="button"
        disabled={!controls.canUndo}
        onClick={() => void run("undo")}
        title="Ctrl/Cmd+Z"
      >
        {controls.undoLabel ? `Undo ${controls.undoLabel}` : "Undo"}
      </button>
      <button
        type="button"
        disabled={!controls.canRedo}
        onClick={() => void run("redo")}
        title="Ctrl/Cmd+Shift+Z"
      >
        {controls.redoLabel ? `Redo ${controls.redoLabel}` : "Redo"}
      </button>
      {notice && <span role="status">{notice}</span>}
    </div>
  );
}
