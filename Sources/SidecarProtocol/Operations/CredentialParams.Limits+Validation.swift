import SidecarCore

extension CredentialParams.Limits {
    /// Checks the limits as the request decoder checks `credential.limits`: a preset the
    /// daemon knows, and counts within ``RequestBounds/perMinute`` and ``RequestBounds/daily``.
    /// The one check of them, used by the decoder and by whatever else sets limits (the
    /// `credentials` command), so that a stored credential's limits obey the wire's rules.
    ///
    /// - Parameter path: the JSON path of the limits (`params.credential.limits`); an error
    ///   names the member under it.
    /// - Throws: `invalid_params` naming the member, worded as the decoder words it.
    public func validate(path: String) throws(SidecarError) {
        if let preset, !Self.presets.contains(preset) {
            let known = Self.presets.map { "\"\($0)\"" }.joined(separator: ", ")
            throw ParamsReader.invalid("\(path).preset", "must be one of \(known), not \"\(preset.prefix(64))\"")
        }
        if let perMinute {
            try ParamsReader.check(perMinute, path: "\(path).per_minute", in: RequestBounds.perMinute)
        }
        if let daily {
            try ParamsReader.check(daily, path: "\(path).daily", in: RequestBounds.daily)
        }
    }
}
