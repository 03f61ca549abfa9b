// internal: not exported. A worker module that fails as it loads, before it could host
// Chronicle (createChronicle must reject, not hang).
throw new Error("this worker module is broken");
