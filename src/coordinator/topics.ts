/** What coordinators see of the cluster's topics: names, ids and partition counts, from the metadata image. */
export interface TopicInfo {
  readonly name: string;
  /** Kafka's base64url topic id. */
  readonly topicId: string;
  readonly numPartitions: number;
}

export interface TopicsView {
  byName(name: string): TopicInfo | undefined;
  byId(topicId: string): TopicInfo | undefined;
  all(): Iterable<TopicInfo>;
}
