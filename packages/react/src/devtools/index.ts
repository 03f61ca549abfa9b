// @chronicle/react/devtools: a panel an app drops in to see its streams (events, time travel,
// sync). The panel's code is loaded only when it renders (React.lazy): an app that imports this
// entry and never shows the panel downloads nothing more.
export {
  ChronicleDevtools,
  type ChronicleDevtoolsProps,
  type DevtoolsTab,
} from "./chronicle-devtools.tsx";
