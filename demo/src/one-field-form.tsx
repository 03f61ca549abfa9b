import { useEffect, useRef, useState } from "react";

/**
 * A form of one text field and its button (adding a card, creating a board): a second submit
 * while the command runs does nothing, the button shows it is busy only when the command is slow,
 * the command's refusal is shown beside it, and the field is cleared once `submit` says it
 * succeeded.
 */
export function OneFieldForm(props: {
  label: string;
  placeholder: string;
  button: string;
  running: boolean;
  error: { message: string } | undefined;
  /** Runs the command with the field's text; true when it succeeded. */
  submit: (text: string) => Promise<boolean>;
}) {
  const [text, setText] = useState("");
  const submitting = useRef(false);
  const slow = useSlow(props.running);
  const onSubmit = async (event: React.FormEvent) => {
    event.preventDefault();
    if (submitting.current) return;
    submitting.current = true;
    try {
      if (await props.submit(text)) setText("");
    } finally {
      submitting.current = false;
    }
  };
  return (
    <form onSubmit={onSubmit}>
      <input
        aria-label={props.label}
        value={text}
        onChange={(e) => setText(e.target.value)}
        placeholder={props.placeholder}
      />
      <button type="submit" disabled={slow}>
        {props.button}
      </button>
      {props.error && <span role="alert">{props.error.message}</span>}
    </form>
  );
}

/** How long a command runs before its button shows it is busy (ms). */
const slowAfterMs = 150;

/**
 * True once `running` has stayed true for {@link slowAfterMs}. A command on a kept state
 * finishes within a frame: disabling its button at once would change the page only to change it
 * back, and the frame that paints that flicker delays the one that paints the command's result.
 */
function useSlow(running: boolean): boolean {
  const [slow, setSlow] = useState(false);
  useEffect(() => {
    if (!running) {
      setSlow(false);
      return;
    }
    const timer = setTimeout(() => setSlow(true), slowAfterMs);
    return () => clearTimeout(timer);
  }, [running]);
  return slow;
}
