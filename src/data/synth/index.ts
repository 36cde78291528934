/**
 * attnvision synthetic degradation datasets: planning, clean sources (photos with a sharpness test,
 * procedural dead leaves), the worker-thread generator and the contact sheet. Node-only.
 */
export { synthesize, listPhotos, SynthError, type SkippedPhoto, type SynthOptions, type SynthSummary } from './generate.js';
export { planJobs, assignSplits, photoSplits, partnerWeight, CLASSES, SPLITS, RAIN_PAIR_MAX_BLUR, NOISE_FLOOR_VISIBLE, BLUR_PAIR_MAX_NOISE, BLUR_NOISE_PAIR_WEIGHT, type Job, type SynthConfig, type ClassName, type Split } from './plan.js';
export { renderJob, cleanSource, sharpCrop, PhotoCache, type ManifestEntry, type CleanSource } from './render.js';
export { deadLeaves, type DeadLeavesOptions } from './dead_leaves.js';
export { sharpness, type SharpnessOptions, type SharpnessReport } from './sharpness.js';
export { readPhotoNotes, partlyBlurredPhotos, ownProblemPhotos, servesLabels, PhotoNotesError, PHOTO_NOTES_FILE, STRICT_SHARPNESS } from './photo_notes.js';
export { widenHeldOut, photoKind, readPhotoSplitFile, writePhotoSplitFile, isPhotoSplitFile, photoSplitMap, PhotoSplitError, PHOTO_SPLIT_KIND, type PhotoSplitFile, type PhotoKind, type WidenOptions, type PhotoInfo } from './photo_split.js';
export { contactSheet, writeContactSheet, SHEET_SEVERITIES } from './contact_sheet.js';
export { mergeManifests, ManifestMergeError } from './merge.js';
export { planFinish, finishNoiseParams, applyFinishSoftness, applyFinishCodec, FINISH_CODEC_QUALITY, FINISH_SOFT_SIGMA, NOISE_GRAIN_SIGMA, FINISH_NOISE_SIGMA, FINISH_NOISE_PROB, FINISH_JPEG_QUALITY, FINISH_LOW_LIGHT_JPEG_QUALITY, type CameraFinish, type FinishPlan, type FinishShares } from './finish.js';
