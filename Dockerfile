# The firedrill image: a statically linked firedrill on an empty base, built
# offline (no registry, no pulls). drills/firedrill-image.yaml stages the
# binary and this file into a build context and builds it:
#
#   cargo run --release -- run drills/firedrill-image.yaml
#   docker run --rm --network host -v /var/run/docker.sock:/var/run/docker.sock \
#     -v "$PWD/drills:/drills:ro" firedrill run /drills/quickstart.yaml
#
# There is no resolver in an empty image: targets are given by IP address.
FROM scratch
COPY firedrill /firedrill
WORKDIR /work
ENTRYPOINT ["/firedrill"]
CMD ["--help"]
