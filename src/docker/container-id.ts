/**
 * What a container ID is. Docker and Podman give a container's ID as 64 lowercase hex digits in an
 * inspect, and the mirror and the ownership records file it so; Docker's CLI shortens it to 12.
 */

/** A full container ID: exactly 64 lowercase hex digits (how inspect gives it and how keys file it). */
export const FULL_CONTAINER_ID = /^[0-9a-f]{64}$/;

/** A full container ID or one shortened to at least Docker's 12 digits (accepted from an event line). */
export const FULL_OR_SHORT_CONTAINER_ID = /^[0-9a-f]{12,64}$/;
