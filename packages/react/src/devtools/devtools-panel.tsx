// internal: the devtools panel, loaded lazily by ChronicleDevtools (its default export).
import type { Chronicle } from "@chronicle/browser";
import type { HistoryEntry, Projection, RejectedNotice, SyncStatus } from "@chronicle/core";
import { useVirtualizer } from "@tanstack/react-virtual";
import { memo, useContext, useEffect, useMemo, useRef, useState } from "react";
import { ChronicleContext } from "../context.tsx";
import type { ChronicleDevtoolsProps, DevtoolsTab } from "./chronicle-devtools.tsx";

const tabs: { id: DevtoolsTab; label: string }[] = [
  { id: "events", label: "Events" },
  { id: "time-travel", label: "Time travel" },
  { id: "sync", label: "Sync" },
  { id: "processes", label: "Processes" },
];

export default function DevtoolsPanel(props: ChronicleDevtoolsProps) {
  const provided = useContext(ChronicleContext);
  const chronicle = props.chronicle ?? provided;
  if (!chronicle) {
    throw new Error("ChronicleDevtools: pass `chronicle` or render it under <ChronicleProvider>");
  }
  const [tab, setTab] = useState<DevtoolsTab>(props.tab ?? "events");
  const status = useStatus(chronicle, props.stream);
  const version = useStreamVersion(chronicle, props.stream, props.projections, status);
  return (
    <aside className="chronicle-devtools" aria-label="Chronicle devtools">
      <div role="tablist">
        {tabs.map(({ id, label }) => (
          <button
            key={id}
            type="button"
            role="tab"
            aria-selected={tab === id}
            onClick={() => setTab(id)}
          >
            {label}
          </button>
        ))}
        <span data-devtools-sync={status?.state ?? "local"}>
          {props.stream} · {status ? `${status.state}, ${status.pending} pending` : "local"}
        </span>
      </div>
      {tab === "events" && (
        <EventsTab
          chronicle={chronicle}
          stream={props.stream}
          version={version}
          window={props.logWindow ?? 1000}
          head={status?.confirmedHead}
        />
      )}
      {tab === "time-travel" && (
        <TimeTravelTab
          chronicle={chronicle}
          stream={props.stream}
          projections={props.projections}
          version={version}
        />
      )}
      {tab === "sync" && <SyncTab chronicle={chronicle} stream={props.stream} status={status} />}
      {tab === "processes" && <ProcessesTab chronicle={chronicle} />}
    </aside>
  );
}

/** The stream's sync status (undefined without sync), following the host. */
function useStatus(chronicle: Chronicle, stream: string): SyncStatus | undefined {
  const [status, setStatus] = useState(() => chronicle.syncStatus(stream));
  useEffect(() => chronicle.onSyncStatus(stream, setStatus), [chronicle, stream]);
  return status;
}

/** Changes (by identity) whenever the stream moves: a projection state or the sync status. */
function useStreamVersion(
  chronicle: Chronicle,
  stream: string,
  projections: readonly Projection<any, any>[],
  status: SyncStatus | undefined,
): unknown {
  const [version, setVersion] = useState<object>({});
  useEffect(() => {
    const stops = projections.map((projection) =>
      chronicle.subscribe(projection, stream, () => setVersion({})),
    );
    return () => {
      for (const stop of stops) stop();
    };
  }, [chronicle, stream, projections]);
  return useMemo(() => ({ version, status }), [version, status]);
}

function EventsTab(props: {
  chronicle: Chronicle;
  stream: string;
  version: unknown;
  window: number;
  head: number | undefined;
}) {
  const { chronicle, stream, version, window, head } = props;
  const [entries, setEntries] = useState<HistoryEntry[]>([]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `version` says the stream moved
  useEffect(() => {
    let current = true;
    const from = head === undefined ? undefined : Math.max(1, head - window + 1);
    void chronicle
      .history(stream, from === undefined ? { limit: window } : { from, limit: window })
      .then((loaded) => {
        if (current) setEntries(loaded);
      });
    return () => {
      current = false;
    };
  }, [chronicle, stream, version, window, head]);
  const newestFirst = useMemo(() => [...entries].reverse(), [entries]);
  return <EventList entries={newestFirst} />;
}

const EventList = memo(function EventList(props: { entries: HistoryEntry[] }) {
  const { entries } = props;
  const scroller = useRef<HTMLDivElement>(null);
  const [open, setOpen] = useState<string | undefined>(undefined);
  const virtualizer = useVirtualizer({
    count: entries.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => 24,
    overscan: 10,
    getItemKey: (index) => entries[index]?.id ?? index,
    // Without layout (server rendering, tests without a DOM engine), the first rows still show.
    initialRect: { width: 600, height: 320 },
  });
  return (
    <div
      ref={scroller}
      className="chronicle-devtools-events"
      style={{ maxHeight: 320, overflow: "auto" }}
    >
      <ol
        style={{ height: virtualizer.getTotalSize(), position: "relative", margin: 0, padding: 0 }}
      >
        {virtualizer.getVirtualItems().map((item) => {
          const entry = entries[item.index]!;
          const expanded = open === entry.id;
          return (
            <li
              key={item.key}
              data-index={item.index}
              data-event={entry.type}
              data-pending={entry.pending ? "true" : undefined}
              ref={virtualizer.measureElement}
              style={{
                position: "absolute",
                top: 0,
                width: "100%",
                listStyle: "none",
                transform: `translateY(${item.start}px)`,
              }}
            >
              <button
                type="button"
                aria-expanded={expanded}
                onClick={() => setOpen(expanded ? undefined : entry.id)}
              >
                #{entry.position} {entry.type}
              </button>{" "}
              <span>
                by {entry.actor} on {entry.device} at{" "}
                <time dateTime={new Date(entry.recordedAt).toISOString()}>
                  {new Date(entry.recordedAt).toLocaleTimeString()}
                </time>
              </span>{" "}
              <span className="tag">{entry.pending ? "pending" : "confirmed"}</span>
              {entry.undoOf && <span className="tag">undo</span>}
              {entry.redoOf && <span className="tag">redo</span>}
              {expanded && (
                <dl>
                  <dt>id</dt>
                  <dd>{entry.id}</dd>
                  <dt>correlation</dt>
                  <dd>{entry.correlationId}</dd>
                  {entry.causationId !== undefined && (
                    <>
                      <dt>causation</dt>
                      <dd>{entry.causationId}</dd>
                    </>
                  )}
                  <dt>version</dt>
                  <dd>{entry.version}</dd>
                  <dt>data</dt>
                  <dd>
                    <pre>{JSON.stringify(entry.data, null, 2)}</pre>
                  </dd>
                </dl>
              )}
            </li>
          );
        })}
      </ol>
    </div>
  );
});

function TimeTravelTab(props: {
  chronicle: Chronicle;
  stream: string;
  projections: readonly Projection<any, any>[];
  version: unknown;
}) {
  const { chronicle, stream, projections, version } = props;
  const [head, setHead] = useState(0);
  const [position, setPosition] = useState<number | undefined>(undefined);
  const [name, setName] = useState(projections[0]?.name);
  const [preview, setPreview] = useState<{ position: number; state: unknown } | undefined>();
  // biome-ignore lint/correctness/useExhaustiveDependencies: `version` says the stream moved
  useEffect(() => {
    let current = true;
    void chronicle.readStream(stream, { direction: "backward", limit: 1 }).then(([last]) => {
      if (current) setHead(last?.position ?? 0);
    });
    return () => {
      current = false;
    };
  }, [chronicle, stream, version]);
  const at = Math.min(position ?? head, head);
  const projection = projections.find((candidate) => candidate.name === name);
  useEffect(() => {
    if (!projection) return;
    let current = true;
    void (async () => {
      const view = await chronicle.viewAt(stream, { position: at });
      const state = await view.read(projection);
      if (current) setPreview({ position: view.position, state });
    })();
    return () => {
      current = false;
    };
  }, [chronicle, stream, projection, at]);
  return (
    <div className="chronicle-devtools-time-travel">
      <label>
        Projection{" "}
        <select value={name} onChange={(event) => setName(event.target.value)}>
          {projections.map((candidate) => (
            <option key={candidate.name} value={candidate.name}>
              {candidate.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        Position {at} of {head}{" "}
        <input
          type="range"
          aria-label="Devtools position"
          min={0}
          max={head}
          value={at}
          onChange={(event) => {
            const next = Number(event.target.value);
            setPosition(next >= head ? undefined : next);
          }}
        />
      </label>
      <pre data-position={preview?.position}>
        {preview ? JSON.stringify(preview.state, null, 2) : "…"}
      </pre>
    </div>
  );
}

function SyncTab(props: { chronicle: Chronicle; stream: string; status: SyncStatus | undefined }) {
  const { chronicle, stream, status } = props;
  const [rejected, setRejected] = useState<{ key: number; notice: RejectedNotice }[]>([]);
  useEffect(() => {
    let heard = 0;
    return chronicle.onRejected((notice) => {
      if (notice.stream !== stream) return;
      const key = ++heard;
      setRejected((list) => [{ key, notice }, ...list].slice(0, 50));
    });
  }, [chronicle, stream]);
  if (!status) return <p>No sync: this device is the stream's authority.</p>;
  return (
    <div className="chronicle-devtools-sync">
      <dl>
        <dt>state</dt>
        <dd data-sync-state={status.state}>{status.state}</dd>
        <dt>pending</dt>
        <dd>{status.pending}</dd>
        <dt>confirmed head</dt>
        <dd>{status.confirmedHead}</dd>
        {status.lastError && (
          <>
            <dt>last error</dt>
            <dd>
              {status.lastError.code}: {status.lastError.message}
            </dd>
          </>
        )}
      </dl>
      <h3>Rejected by the node</h3>
      {rejected.length === 0 ? (
        <p>None since the panel opened.</p>
      ) : (
        <ul>
          {rejected.map(({ key, notice }) => (
            <li key={key}>
              {notice.code}: {notice.message}
              {notice.decider && ` (${notice.decider})`}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

type Instance = Awaited<ReturnType<Chronicle["processes"]["list"]>>[number];

/** Every process instance of the app (not only the stream's): state, status, deadlines, outbox. */
function ProcessesTab(props: { chronicle: Chronicle }) {
  const { chronicle } = props;
  const [instances, setInstances] = useState<Instance[] | undefined>(undefined);
  useEffect(() => {
    let current = true;
    const read = () =>
      void chronicle.processes.list().then((list) => {
        if (current) setInstances(list);
      });
    const unsubscribe = chronicle.processes.onChange(read);
    read();
    return () => {
      current = false;
      unsubscribe();
    };
  }, [chronicle]);
  if (!instances) return <p>…</p>;
  if (instances.length === 0) return <p>No process instances.</p>;
  return (
    <ul className="chronicle-devtools-processes">
      {instances.map((instance) => (
        <li
          key={`${instance.process}/${instance.id}`}
          data-process={instance.process}
          data-status={instance.status}
        >
          <strong>{instance.process}</strong> {instance.id}{" "}
          <span className="tag">{instance.status}</span> step {instance.step}
          {instance.deadlines.map((deadline) => (
            <span key={deadline.name} data-deadline={deadline.name}>
              {" "}
              · {deadline.name} at{" "}
              <time dateTime={new Date(deadline.dueAt).toISOString()}>
                {new Date(deadline.dueAt).toLocaleString()}
              </time>
            </span>
          ))}
          {instance.outbox.length > 0 && ` · ${instance.outbox.length} to deliver`}
          <pre>{JSON.stringify(instance.state, null, 2)}</pre>
        </li>
      ))}
    </ul>
  );
}
