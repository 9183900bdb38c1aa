import { WorkbenchError } from '../errors.ts';

/** A band, layer or model named in an export request does not exist in its source. */
export class UnknownLayerError extends WorkbenchError {}

/** A folder given as a training run lacks the file an export needs (metrics.json, manifest.json). */
export class RunFolderError extends WorkbenchError {}
