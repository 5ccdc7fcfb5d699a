import SidecarCore

extension MessageComposer {
    /// The Subject's tokens; empty when there is no subject.
    func subjectTokens(_ subject: String?) throws(CompositionError) -> [String] {
        guard let subject, !subject.isEmpty else { return [] }
        try Self.checkNoLineBreaks(subject, field: .subject, what: "The subject")
        let length = subject.unicodeScalars.count
        guard length <= limits.maxSubjectLength else {
            throw .subjectTooLong(length: length, limit: limits.maxSubjectLength)
        }
        return UnstructuredText.tokens(subject, fieldName: "Subject")
    }

    /// The custom header fields, validated and folded, in the order given.
    func customHeaderFields(_ headers: [CustomHeader], priority: MessagePriority?) throws(CompositionError) -> [[UInt8]] {
        guard headers.count <= limits.maxCustomHeaders else {
            throw .tooManyHeaders(count: headers.count, limit: limits.maxCustomHeaders)
        }
        var fields: [[UInt8]] = []
        for (index, header) in headers.enumerated() {
            // Entry `index` of the array, or the index-th member of the object form.
            let field = DraftField.header(index: index, .name)
            let valueField = DraftField.header(index: index, .value)
            try Self.checkNoLineBreaks(header.name, field: field, what: "The name of custom header headers[\(index)]")
            guard CustomHeader.isValidName(header.name) else {
                throw .headerNameInvalid(name: header.name, field: field)
            }
            guard !CustomHeader.isReserved(header.name) else {
                throw .headerReserved(name: header.name, field: field)
            }
            if priority != nil, MessagePriority.headerNames.contains(CustomHeader.asciiLowercased(header.name)) {
                throw .headerConflictsWithPriority(name: header.name, field: field)
            }
            try Self.checkNoLineBreaks(header.value, field: valueField, what: "The value of custom header \"\(header.name)\"")
            let valueBytes = header.value.utf8.count
            guard valueBytes <= limits.maxHeaderValueBytes else {
                throw .headerValueTooLong(name: header.name, bytes: valueBytes, limit: limits.maxHeaderValueBytes, field: valueField)
            }
            fields.append(HeaderFolder.field(header.name, UnstructuredText.tokens(header.value, fieldName: header.name)))
        }
        return fields
    }
}
