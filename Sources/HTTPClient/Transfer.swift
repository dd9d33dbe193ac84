import CCurl
import CCurlShim
import Text

/// One request in flight: the easy handle, the buffers libcurl writes into and the completion to call.
/// Lives on the client's event-loop thread only.
final class Transfer {
    static let maximumResponseBytes = 32 << 20

    let handle: UnsafeMutableRawPointer
    let request: HTTPClientRequest
    let completion: @Sendable (Result<HTTPClientResponse, HTTPClientError>) -> Void
    var body: [UInt8] = []
    var headers: [String: String] = [:]
    var headerList: UnsafeMutablePointer<curl_slist>?
    /// The request body, kept alive and at a fixed address while libcurl reads it.
    let upload: UnsafeMutableBufferPointer<UInt8>
    var overflow = false

    init?(request: HTTPClientRequest, completion: @escaping @Sendable (Result<HTTPClientResponse, HTTPClientError>) -> Void) {
        guard let handle = curl_easy_init() else { return nil }
        self.handle = handle
        self.request = request
        self.completion = completion
        upload = .allocate(capacity: max(request.body.count, 1))
        _ = upload.initialize(from: request.body)
    }

    deinit {
        curl_easy_cleanup(handle)
        if let headerList { curl_slist_free_all(headerList) }
        upload.deallocate()
    }

    /// Applies the request to the easy handle; `context` is this transfer's unmanaged pointer. Every option is
    /// checked: a request libcurl did not take as asked (an unsupported option, no memory) is not sent at all.
    func configure(context: UnsafeMutableRawPointer) throws(HTTPClientError) {
        var failed: (String, CURLcode)?
        func set(_ name: String, _ result: CURLcode) {
            if result != CURLE_OK && failed == nil { failed = (name, result) }
        }
        set("URL", xcurl_easy_setopt_string(handle, CURLOPT_URL, request.url))
        set("NOSIGNAL", xcurl_easy_setopt_long(handle, CURLOPT_NOSIGNAL, 1))
        set("TIMEOUT_MS", xcurl_easy_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(request.timeout * 1000)))
        set("CONNECTTIMEOUT_MS", xcurl_easy_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(min(request.timeout, 10) * 1000)))
        set("HTTP_VERSION", xcurl_easy_setopt_long(handle, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS))
        set("PIPEWAIT", xcurl_easy_setopt_long(handle, CURLOPT_PIPEWAIT, 1))
        set("ACCEPT_ENCODING", xcurl_easy_setopt_string(handle, CURLOPT_ACCEPT_ENCODING, ""))
        set("TCP_KEEPALIVE", xcurl_easy_setopt_long(handle, CURLOPT_TCP_KEEPALIVE, 1))
        set("PRIVATE", xcurl_easy_setopt_pointer(handle, CURLOPT_PRIVATE, context))
        set("WRITEDATA", xcurl_easy_setopt_pointer(handle, CURLOPT_WRITEDATA, context))
        set("WRITEFUNCTION", xcurl_easy_setopt_callback(handle, CURLOPT_WRITEFUNCTION) { data, size, count, context in
            // libcurl passes back the pointer given with WRITEDATA, and data for count bytes.
            let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
            let length = size * count
            if transfer.body.count + length > Transfer.maximumResponseBytes {
                transfer.overflow = true
                return 0
            }
            data!.withMemoryRebound(to: UInt8.self, capacity: length) {
                transfer.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: length))
            }
            return length
        })
        set("HEADERDATA", xcurl_easy_setopt_pointer(handle, CURLOPT_HEADERDATA, context))
        set("HEADERFUNCTION", xcurl_easy_setopt_callback(handle, CURLOPT_HEADERFUNCTION) { data, size, count, context in
            let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
            let length = size * count
            let line = data!.withMemoryRebound(to: UInt8.self, capacity: length) {
                String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
            }
            if line.hasPrefix("HTTP/") {
                transfer.headers.removeAll() // a new response (after 100 Continue or a redirect)
            } else if let colon = line.firstIndex(of: ":") {
                let name = line[..<colon].lowercased()
                transfer.headers[name] = line[line.index(after: colon)...].trimmed()
            }
            return length
        })
        for (name, value) in request.headers {
            headerList = curl_slist_append(headerList, "\(name): \(value)")
        }
        // No "Expect: 100-continue" round trip for uploads.
        guard let list = curl_slist_append(headerList, "Expect:") else { throw .invalidRequest("no memory for headers") }
        headerList = list
        set("HTTPHEADER", xcurl_easy_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList))

        switch request.method {
        case "GET":
            set("HTTPGET", xcurl_easy_setopt_long(handle, CURLOPT_HTTPGET, 1))
        case "POST":
            set("POST", xcurl_easy_setopt_long(handle, CURLOPT_POST, 1))
        default:
            set("CUSTOMREQUEST", xcurl_easy_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method))
        }
        if request.method != "GET" {
            set("POSTFIELDSIZE_LARGE", xcurl_easy_setopt_offset(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count)))
            // The buffer is allocated for at least one byte, so its base address exists.
            set("POSTFIELDS", xcurl_easy_setopt_pointer(handle, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(upload.baseAddress!)))
        }
        if let (name, code) = failed {
            throw .invalidRequest("curl_easy_setopt CURLOPT_\(name): \(String(cString: curl_easy_strerror(code)))")
        }
    }

    /// The outcome once libcurl reports the transfer done.
    func outcome(_ code: CURLcode) -> Result<HTTPClientResponse, HTTPClientError> {
        switch code {
        case CURLE_OK:
            var status = 0
            xcurl_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
            return .success(HTTPClientResponse(status: status, headers: headers, body: body))
        case CURLE_OPERATION_TIMEDOUT:
            return .failure(.timedOut)
        case CURLE_WRITE_ERROR where overflow:
            return .failure(.responseTooLarge)
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL:
            return .failure(.invalidRequest(String(cString: curl_easy_strerror(code))))
        default:
            return .failure(.connection(String(cString: curl_easy_strerror(code))))
        }
    }
}
