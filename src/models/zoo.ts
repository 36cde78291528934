/**
 * Registers every model of the zoo (one import per family).
 */
import './toy_registry.js';
import './swin_registry.js';
import './resnet_registry.js';
import './san_registry.js';
import './sagan_registry.js';
