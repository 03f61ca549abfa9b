// internal: not exported. The few standard globals core uses, which every target runtime
// (browsers, Web Workers, workerd, Node >= 18) provides. Declared here so that core compiles
// without the DOM or Node type libraries, which keeps it honest about what it may touch.
declare const crypto: { getRandomValues<T extends Uint8Array>(array: T): T };
declare function structuredClone<T>(value: T): T;
/** An opaque timer handle (a number in browsers and workerd, an object in Node). */
type TimerHandle = { readonly __timer: unique symbol };
declare function setTimeout(callback: () => void, ms?: number): TimerHandle;
declare function clearTimeout(handle: TimerHandle | undefined): void;
