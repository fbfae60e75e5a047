"""HTTP API: FastAPI app factory, request/response schemas, the server runner."""
