import Logging
import NIOCore
import SidecarCore
import SidecarProtocol
import SidecarSMTP

extension MailOperations {
    public func verify(_ params: VerifyParams, logger: Logger) async -> Response.Outcome {
        // The request's deadline bounds every step done for it, from here.
        let deadline = params.timeoutMs.map { NIODeadline.now() + .milliseconds(Int64($0)) }
        var logger = logger
        logger[metadataKey: "workspace_id"] = "\(params.workspaceID)"
        if let id = params.credential?.id ?? params.credentialID {
            logger[metadataKey: "credential_id"] = "\(id)"
        }
        let configuration: SMTPConfiguration
        let destination: SMTPDestination
        do throws(SidecarError) {
            let credential = try await credential(inline: params.credential, storedID: params.credentialID, workspace: params.workspaceID)
            let oauth: OAuthTokenSource?
            (configuration, oauth) = try self.configuration(for: credential, workspace: params.workspaceID)
            logger[metadataKey: "smtp_host"] = "\(configuration.host)"
            logger[metadataKey: "smtp_port"] = "\(configuration.port)"
            // The same SSRF guard as `send`: a verify connects (and hands over a password)
            // only where a send could.
            destination = try await self.destination(for: configuration, oauth: oauth)
            if let deadline, deadline <= .now() { throw Self.deadlinePassed(before: "connecting to the server") }
        } catch {
            logger.warning("Verify refused", metadata: [
                "error_code": "\(error.code)", "error_field": "\(error.field ?? "")",
            ])
            return .failure(error)
        }
        do {
            let capabilities = try await transport.verify(destination: destination, deadline: deadline, logger: logger)
            logger.info("Credential verified", metadata: ["smtp_security": "\(configuration.resolvedSecurity.rawValue)"])
            if let id = params.credentialID { health.succeeded(workspace: params.workspaceID, id: id) }
            return .success(VerifyResult(
                security: configuration.resolvedSecurity.rawValue, server: capabilities.serverName,
                authMechanisms: capabilities.authMechanisms, capabilities: capabilities.keywords))
        } catch {
            logger.warning("Credential verification failed", metadata: [
                "error_code": "\(error.error.code)", "smtp_phase": "\(error.phase.rawValue)",
                "smtp_reply_code": "\(error.error.smtp.map { String($0.code) } ?? "")",
            ])
            let refined = ProviderReply.refine(error.error)
            if let id = params.credentialID { health.failed(workspace: params.workspaceID, id: id, error: refined) }
            return .failure(refined)
        }
    }
}
