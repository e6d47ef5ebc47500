/**
 * `meta.properties` in each log folder, as Kafka writes it (`kafka-storage format`): the
 * cluster id, this node's id and the folder's id. Samsa formats a new folder by itself, so
 * `samsa server` needs no format step; an existing folder of another node or cluster is refused.
 */
import type { FileSystem } from '../runtime/fs.js';
import type { Random } from '../runtime/random.js';
import { isPropertiesError, parseProperties } from '../runtime/properties.js';

export const META_PROPERTIES_FILE = 'meta.properties';

export async function readOrCreateMetaProperties(
  fs: FileSystem,
  logDirs: readonly string[],
  nodeId: number,
  configuredClusterId: string | null,
  random: Random,
): Promise<{ clusterId: string }> {
  let clusterId = configuredClusterId;
  const missing: string[] = [];
  for (const dir of logDirs) {
    const path = `${dir}/${META_PROPERTIES_FILE}`;
    const bytes = await fs.readFile(path);
    if (bytes === null) {
      missing.push(dir);
      continue;
    }
    const props = parseProperties(bytes.toString('utf8'));
    if (isPropertiesError(props)) throw new Error(`${path}: ${props.message}`);
    const id = props.get('cluster.id');
    const node = props.get('node.id');
    if (node !== undefined && Number(node) !== nodeId) {
      throw new Error(`${path} belongs to node ${node}, but this is node.id ${nodeId}`);
    }
    if (id !== undefined) {
      if (clusterId !== null && clusterId !== id) {
        throw new Error(`${path} belongs to cluster ${id}, but this node is in cluster ${clusterId}`);
      }
      clusterId = id;
    }
  }
  clusterId ??= random.bytes(16).toString('base64url');
  for (const dir of missing) {
    const text = [
      '#',
      `#written by samsa ${new Date().toISOString()}`,
      `cluster.id=${clusterId}`,
      `directory.id=${random.bytes(16).toString('base64url')}`,
      `node.id=${nodeId}`,
      'version=1',
      '',
    ].join('\n');
    await fs.writeFileAtomic(`${dir}/${META_PROPERTIES_FILE}`, text);
  }
  return { clusterId };
}
