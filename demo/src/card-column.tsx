import { useVirtualizer, type Virtualizer } from "@tanstack/react-virtual";
import { type ReactNode, useRef } from "react";
import { type Card, type Column, labels } from "./board.ts";

/**
 * One column of the board, newest card first. Virtualised: only the cards in view (and a few
 * either side) are in the DOM, so a column of a thousand cards costs the browser what a column
 * of ten does, on every frame.
 */
export function CardColumn(props: {
  column: Column;
  /** The column's cards, newest first, with their ids. */
  cards: readonly (readonly [string, Card])[];
  renderCard: (id: string, card: Card) => ReactNode;
}) {
  const { cards } = props;
  const scroller = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: cards.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => estimatedHeight,
    overscan: 6,
    getItemKey: (index) => cards[index]?.[0] ?? index,
    measureElement: sizeOf,
  });
  return (
    <div className="column" data-column={props.column}>
      <h2>
        {labels[props.column]} <span className="count">{cards.length}</span>
      </h2>
      <div ref={scroller} className="cards">
        <div style={{ height: virtualizer.getTotalSize(), position: "relative" }}>
          {virtualizer.getVirtualItems().map((item) => {
            const [id, card] = cards[item.index]!;
            return (
              <div
                key={item.key}
                data-index={item.index}
                ref={virtualizer.measureElement}
                className="slot"
                style={{ translate: `0 ${item.start}px` }}
              >
                {props.renderCard(id, card)}
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}

/** A card's height before it is measured (px). */
const estimatedHeight = 96;

/**
 * A card's height: as its resize observer reports it (after layout, before paint); on mount, the
 * height known for that card or the estimate. Reading the element's own height on mount would
 * force a layout of the whole page in the middle of React's commit, on every new card.
 */
function sizeOf(
  element: Element,
  entry: ResizeObserverEntry | undefined,
  instance: Virtualizer<HTMLDivElement, Element>,
): number {
  const box = entry?.borderBoxSize?.[0];
  if (box) return Math.round(box.blockSize);
  const key = instance.options.getItemKey(instance.indexFromElement(element));
  return instance.itemSizeCache.get(key) ?? estimatedHeight;
}
