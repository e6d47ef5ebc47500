/**
 * DescribeCluster (key 60), versions 0-1.
 *
 * The cluster id, the controller (this node: Samsa's nodes are their own controllers, the id
 * Metadata answers too) and the unfenced brokers of the metadata image — this node at its
 * advertised address, the others at their first registered endpoint. Like a Kafka broker
 * listener, it serves the broker endpoint type (1) only: a request for controller endpoints (v1,
 * endpointType 2, KIP-919) answers UNSUPPORTED_ENDPOINT_TYPE. Authorized operations are not
 * tracked (no ACLs): -2147483648, asked or not.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { apis } from '../../protocol/generated/api-keys.js';
import type { DescribeClusterRequest } from '../../protocol/generated/message/DescribeClusterRequest.js';
import { DescribeClusterResponse } from '../../protocol/generated/message/DescribeClusterResponse.js';
import { defineHandler } from './types.js';

/** DescribeCluster's endpoint types (Kafka's EndpointType). */
const ENDPOINT_TYPE_BROKER = 1;
const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;

export const describeClusterHandler = defineHandler<DescribeClusterRequest, DescribeClusterResponse>({
  api: apis.DescribeCluster,
  minVersion: 0,
  maxVersion: 1,
  handle(ctx, req) {
    const b = ctx.broker;
    const base = { ...DescribeClusterResponse.create(), endpointType: req.endpointType };
    if (req.endpointType !== ENDPOINT_TYPE_BROKER) {
      return {
        ...base,
        errorCode: ErrorCode.UNSUPPORTED_ENDPOINT_TYPE,
        errorMessage: `The request was sent to an endpoint of type BROKER, but it asked for endpoint type ${req.endpointType}`,
      };
    }
    const brokers = [...b.image().brokers.values()]
      .filter((br) => !br.fenced)
      .sort((x, y) => x.brokerId - y.brokerId)
      .map((br) => {
        const ep = br.brokerId === b.nodeId ? b.advertised : (br.endpoints[0] ?? { host: '', port: 0 });
        return {
          brokerId: br.brokerId,
          host: ep.host,
          port: ep.port,
          rack: br.rack,
          unknownTaggedFields: undefined,
        };
      });
    return {
      ...base,
      clusterId: b.clusterId,
      controllerId: b.nodeId,
      brokers,
      clusterAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
    };
  },
});
