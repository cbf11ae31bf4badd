# The same steps as README.md's first command: install (scripts/lib.sh's package list),
# build, then migrate and serve (scripts/dev, with an external DATABASE_URL).
FROM debian:12
WORKDIR /app
COPY . .
RUN ./scripts/dev --build-only
ENV HOST=0.0.0.0 PORT=8080
EXPOSE 8080
CMD ["./scripts/dev"]
