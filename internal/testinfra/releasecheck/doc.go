// Package releasecheck checks what a release ships, as built by .ci/image
// (the container images) and .ci/release (archives, checksums, SBOM, OCI
// archive): its tests read IMAGE and RELEASE_DIR, which .ci/run sets after
// building them. It also tries the README's install from a checkout (go
// install ./cmd/corsaudit), so each of the three ways in is run in CI. It
// holds tests only.
package releasecheck
