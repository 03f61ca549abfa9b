import { useCommand, useProjection } from "@chronicle/react";
import { memo } from "react";
import { boardHash, openBoard } from "./board-route.ts";
import { boardInfo, boardList, boardStream, listedBoards } from "./boards.ts";
import { OneFieldForm } from "./one-field-form.tsx";

/**
 * The board list (a cross-stream projection over every `board:` stream, boards made on other
 * devices included) with links that open a board by URL, and a form that creates one (a
 * command on a new stream) and opens it.
 */
export const BoardNav = memo(function BoardNav(props: { current: string }) {
  const list = useProjection(boardList);
  const create = useCommand(boardInfo);
  const boards = listedBoards(list);
  // A board opened by URL before this device has its events is listed by its id meanwhile.
  if (!boards.some((board) => board.id === props.current))
    boards.push({ id: props.current, cards: 0 });

  const submit = async (name: string) => {
    const id = crypto.randomUUID().slice(0, 8);
    // Creating a board is not an undo step: undoing it would leave a nameless empty stream.
    const done = await create.execute(
      boardStream(id),
      { type: "createBoard", name },
      { undoable: false },
    );
    if (!done) return false;
    openBoard(id);
    return true;
  };

  return (
    <nav className="boards" aria-label="Boards">
      <ul>
        {boards.map((board) => (
          <li key={board.id}>
            <a
              href={boardHash(board.id)}
              data-board={board.name ?? board.id}
              aria-current={board.id === props.current ? "page" : undefined}
            >
              {board.name ?? board.id} <small>{cardCount(board.cards)}</small>
            </a>
          </li>
        ))}
      </ul>
      <OneFieldForm
        label="New board name"
        placeholder="Board name"
        button="New board"
        running={create.running}
        error={create.error}
        submit={submit}
      />
    </nav>
  );
});

const cardCount = (cards: number) => (cards === 1 ? "1 card" : `${cards} cards`);
