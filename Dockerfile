# meshsim in a small image, for the Kubernetes Indexed Job of README.md
# (deploy/kubernetes/sweep-job.yaml, merge-job.yaml). Build from the repository's root:
#
#   docker build -t your-registry/meshsim:latest . && docker push your-registry/meshsim:latest
#
# Not built in CI: the machine CI runs on has no container engine (docs/SCHEDULERS.md).
# The runtime stage keeps a shell: the Job runs `sh -c "meshsim sweep …"`.

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked \
 && install -m 0755 target/release/meshsim /usr/local/bin/meshsim

FROM debian:bookworm-slim
COPY --from=build /usr/local/bin/meshsim /usr/local/bin/meshsim
# The repository's scenarios, for `docker run` and for Jobs without a ConfigMap.
COPY scenarios /opt/meshsim/scenarios
WORKDIR /work
ENTRYPOINT ["meshsim"]
CMD ["--help"]
