import { useState } from "react";

/**
 * A form of one text field and its button (adding a card, creating a board): the button is
 * disabled while the command runs, the command's refusal is shown beside it, and the field is
 * cleared once `submit` says it succeeded.
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
  const onSubmit = async (event: React.FormEvent) => {
    event.preventDefault();
    if (await props.submit(text)) setText("");
  };
  return (
    <form onSubmit={onSubmit}>
      <input
        aria-label={props.label}
        value={text}
        onChange={(e) => setText(e.target.value)}
        placeholder={props.placeholder}
      />
      <button type="submit" disabled={props.running}>
        {props.button}
      </button>
      {props.error && <span role="alert">{props.error.message}</span>}
    </form>
  );
}
