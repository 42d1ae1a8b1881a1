# The corsaudit image: one static binary, a CA bundle and a non-root user;
# no shell, no package manager, no base image to pull.
#
# The binary is built beforehand, as for the release tarballs, and this
# file only assembles the image: `.ci/image` prepares the build context
# (the binary, Debian's CA bundle, passwd and group naming user 65532) and
# builds it with buildah; `docker build` works on the same context.
#
#   corsaudit            CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=..."
#   ca-certificates.crt  the CA bundle Go reads on Linux
#   passwd, group        corsaudit (65532), as in distroless' nonroot
#
# The sharded Kubernetes Job (examples/kubernetes) runs a script: the
# "shell" stage adds a static BusyBox (Debian's busybox-static) for it.
FROM scratch AS corsaudit
ARG VERSION=dev
LABEL org.opencontainers.image.title="corsaudit" \
      org.opencontainers.image.description="Audit the CORS behaviour of every instance behind a load balancer" \
      org.opencontainers.image.source="https://github.com/corsaudit/corsaudit" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}"
COPY --chmod=0644 passwd group /etc/
COPY --chmod=0644 ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --chmod=0755 corsaudit /corsaudit
USER 65532:65532
ENTRYPOINT ["/corsaudit"]

FROM corsaudit AS shell
COPY --chmod=0755 busybox/ /bin/
ENV PATH=/bin:/
ENTRYPOINT []
CMD ["/bin/sh"]
