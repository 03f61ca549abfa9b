// internal: not exported. A worker module that loads fine and never calls hostChronicle (the
// wrong module given to createChronicle): createChronicle must give up after startTimeoutMs.
export {};
