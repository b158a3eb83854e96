package dev.laconic.cli;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An error answered in OpenAI's shape, {@code {"error": {"message", "type", "param", "code"}}}, with its HTTP status.
 * Thrown anywhere while a request is read and checked; the server writes it and goes on.
 */
final class ApiError extends RuntimeException {
    final int status;
    final String type, param, code;

    ApiError(int status, String type, String param, String code, String message) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
    }

    /** 400: a field is missing, of the wrong type or out of range; {@code param} names it. */
    static ApiError badField(String param, String message) {
        return new ApiError(400, "invalid_request_error", param, null, message);
    }

    /** 400: a field asks for something this server does not do. */
    static ApiError unsupported(String param, String what) {
        return new ApiError(400, "invalid_request_error", param, "unsupported_parameter", what + " is not supported by this server");
    }

    static ApiError unknownModel(String model) {
        return new ApiError(404, "invalid_request_error", "model", "model_not_found",
                "The model `" + model + "` does not exist or you do not have access to it.");
    }

    static ApiError contextLength(int context, int promptTokens, int maxTokens) {
        return new ApiError(400, "invalid_request_error", "messages", "context_length_exceeded",
                "This model's maximum context length is " + context + " tokens. However, you requested " + (promptTokens + maxTokens)
                        + " tokens (" + promptTokens + " in the prompt, " + maxTokens + " in the completion). Please reduce the length "
                        + "of the prompt or of max_tokens.");
    }

    static ApiError tooLarge(long limit) {
        return new ApiError(413, "invalid_request_error", null, "request_too_large", "The request body is larger than " + limit + " bytes.");
    }

    static ApiError unauthorized() {
        return new ApiError(401, "invalid_request_error", null, "invalid_api_key",
                "Incorrect or missing API key: send the header `Authorization: Bearer KEY` with the server's --api-key.");
    }

    static ApiError notFound(String method, String path) {
        return new ApiError(404, "invalid_request_error", null, "not_found", "No route " + method + " " + path + ".");
    }

    static ApiError methodNotAllowed(String method, String path) {
        return new ApiError(405, "invalid_request_error", null, "method_not_allowed", "Method " + method + " is not allowed on " + path + ".");
    }

    static ApiError unavailable(String message) {
        return new ApiError(503, "server_error", null, "unavailable", message);
    }

    static ApiError internal(Throwable e) {
        return new ApiError(500, "server_error", null, null, "Internal error: " + e);
    }

    /** The body: {@code {"error": {...}}}. */
    Map<String, Object> body() {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("message", getMessage());
        e.put("type", type);
        e.put("param", param);
        e.put("code", code);
        return Map.of("error", e);
    }
}
