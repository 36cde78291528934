export { CompiledGraph, hostTensor, setRuntimeDefaults, defaultThreads, clearSessionCache, sessionCacheSize, type HostTensor, type RuntimeOptions } from './session.js';
