import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';

/** The field manager kmc writes with: it owns only the fields it applies (ARCHITECTURE §2.3). */
export const FIELD_MANAGER = 'kmc';

/** Request options for a JSON merge patch (client-node's default patch type is JSON Patch). */
export const mergePatch = () => setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** Request options for server-side apply; pair with `fieldManager: FIELD_MANAGER, force: true` in the call. */
export const serverSideApply = () => setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);

/** Request options for a strategic merge patch (core types only). */
export const strategicMergePatch = () => setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);
