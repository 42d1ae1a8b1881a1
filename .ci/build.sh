# Shared by .ci/image and .ci/release (sourced, not run): how a release
# binary is built, and the version it carries. One place, so that the
# image holds exactly the binary of the linux tarball.

# SLIM_TAGS are the build tags of the slim variant (static and dns only: no
# AWS, GCP or Kubernetes client; README "Install"). A provider that can be
# left out adds its tag here.
SLIM_TAGS=corsaudit_noaws,corsaudit_nogcp,corsaudit_nok8s

# corsaudit_version prints the version to stamp: $VERSION when set, else
# the tag on HEAD (v1.2.3), else dev-<revision> (dev outside a checkout).
corsaudit_version() {
	if [ -n "${VERSION:-}" ]; then
		echo "$VERSION"
	elif tag=$(git describe --tags --exact-match --match 'v[0-9]*' 2>/dev/null); then
		echo "$tag"
	elif rev=$(git rev-parse --short=12 HEAD 2>/dev/null); then
		echo "dev-$rev"
	else
		echo dev
	fi
}

# build_corsaudit OS ARCH OUT VERSION [TAGS]: a static, stripped,
# reproducible binary (no cgo, no local paths, no symbol table).
build_corsaudit() {
	CGO_ENABLED=0 GOOS=$1 GOARCH=$2 go build -trimpath -buildvcs=auto \
		-tags "${5:-}" -ldflags "-s -w -buildid= -X main.version=$4" -o "$3" ./cmd/corsaudit
}
