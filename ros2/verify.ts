// The auditor's side of the ROS 2 bridge, usable without ROS 2 or rclnodejs: recompute a msg_hash from
// a recorded message, and check that a message is included in a topic_digest window.
export { messageHash, hashableMessage, messageCanonicalText, valueHash, isRawMessage, MSG_HASH_RECIPE } from './msg-hash.js'
export { merkleRoot, leafHash, proveInclusion, verifyInclusion, type InclusionProof } from './merkle.js'
