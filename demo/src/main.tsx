import { createChronicle } from "@chronicle/browser";
import { ChronicleProvider } from "@chronicle/react";
import { createRoot } from "react-dom/client";
import { App } from "./app.tsx";

const params = new URLSearchParams(location.search);
const device = params.get("device") ?? "1";
const user = params.get("user") ?? (device === "1" ? "alice" : "bob");

const chronicle = await createChronicle({
  worker: new Worker(new URL("./chronicle.worker.ts", import.meta.url), {
    type: "module",
    name: `device-${device}`,
  }),
  name: `chronicle-demo-device-${device}`,
  actor: user,
});

createRoot(document.getElementById("root")!).render(
  <ChronicleProvider chronicle={chronicle}>
    <App device={device} user={user} />
  </ChronicleProvider>,
);
