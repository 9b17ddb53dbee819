package dev.spamtrap.smtp;

import dev.spamtrap.core.metrics.SpamtrapEvents;
import dev.spamtrap.core.net.Allowlist;
import dev.spamtrap.core.offender.TrapHit;
import dev.spamtrap.core.runtime.Spamtrap;
import dev.spamtrap.core.trap.CompromisedAccounts;
import dev.spamtrap.core.trap.TrapEntry;
import org.apache.commons.configuration2.Configuration;
import org.apache.commons.configuration2.ex.ConfigurationException;
import org.apache.james.core.MailAddress;
import org.apache.james.core.MaybeSender;
import org.apache.james.domainlist.api.DomainList;
import org.apache.james.domainlist.api.DomainListException;
import org.apache.james.protocols.api.ProtocolSession.State;
import org.apache.james.protocols.api.handler.ExtensibleHandler;
import org.apache.james.protocols.api.handler.ProtocolHandler;
import org.apache.james.protocols.api.handler.WiringException;
import org.apache.james.protocols.smtp.SMTPRetCode;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.dsn.DSNStatus;
import org.apache.james.protocols.smtp.hook.HookResult;
import org.apache.james.protocols.smtp.hook.HookReturnCode;
import org.apache.james.protocols.smtp.hook.RcptHook;
import org.apache.james.server.core.configuration.ConfigurationProvider;
import org.apache.james.smtpserver.JamesMessageHook;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.inject.Inject;
import java.net.InetAddress;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Detects trap recipients at RCPT time and records the client as an offender (without waiting on the
 * store). List it in {@code smtpserver.xml} before {@code ValidRcptHandler}, with {@code TrappedMessageHook};
 * James refuses to start otherwise (see {@link QuarantineWiring}):
 *
 * <pre>{@code
 * <handler class="dev.spamtrap.smtp.TrapRcptHook">
 *   <mode>accept</mode>                          <!-- accept (default) or reject -->
 *   <bounces>evidence</bounces>                  <!-- evidence (default): a null sender to a trap lists nobody; or offence -->
 * </handler>
 * <handler class="dev.spamtrap.smtp.TrappedMessageHook"/>
 * <handler class="org.apache.james.smtpserver.fastfail.ValidRcptHandler"/>
 * }</pre>
 * Trusted relays (the administrator's backup MX and forwarders) are the node setting {@code trustedRelays} of
 * {@code spamtrap.properties}.
 *
 * <p>Nothing in a reply tells a trap from another address:
 * <ul>
 * <li>{@code accept}: a trap in a domain this server serves gets the {@code 250} of a real mailbox;
 * {@code reject}: it gets James's own unknown-user reply, byte for byte.</li>
 * <li>A trap in a domain this server does not serve gets whatever James answers for that domain (the hook
 * declines after recording).</li>
 * <li>Every other recipient, before or after the trap, gets exactly the reply it would get without it.</li>
 * </ul>
 * The reply is the same whoever sends (see {@link #classify} for what the hit means):
 * <ul>
 * <li>anyone else: an offence. The connection is marked trapped: everything it sends from then on is quarantined,
 * never delivered. One connection is one offence: its first trap recipient records the hit, later ones nothing.</li>
 * <li>a bounce ({@code MAIL FROM:<>}) with {@code bounces=evidence}: backscatter. The message is quarantined,
 * nobody is listed, the connection is not trapped.</li>
 * <li>authenticated clients, relay-authorized networks and allowlisted ranges: never recorded; only the trap's
 * copy is quarantined. An authenticated one is reported as a probable compromised account.</li>
 * </ul>
 *
 * <p>A trusted relay (the administrator's backup MX or forwarder) is never recorded: its trapped message is
 * accepted and quarantined, and the hit is recorded at the end of DATA against the client named in the
 * {@code Received:} header the relay added (see {@link TrappedMessageHook}).
 */
public class TrapRcptHook implements RcptHook, ProtocolHandler, ExtensibleHandler {
    private static final Logger LOGGER = LoggerFactory.getLogger(TrapRcptHook.class);

    public enum Mode { ACCEPT, REJECT }

    /** What a bounce (null sender) to a trap is: {@code evidence} (default; nobody listed) or {@code offence}. */
    public enum Bounces { EVIDENCE, OFFENCE }

    private final Spamtrap spamtrap;
    private final SpamtrapEvents events;
    private final DomainList domains;
    private final ConfigurationProvider configurations;
    private final CompromisedAccounts compromisedAccounts;
    private Mode mode = Mode.ACCEPT;
    private Bounces bounces = Bounces.EVIDENCE;

    /** The runtime, events and accounts come from the node's one runtime ({@code dev.spamtrap.james.SpamtrapModule}). */
    @Inject
    public TrapRcptHook(Spamtrap spamtrap, SpamtrapEvents events, CompromisedAccounts compromisedAccounts, DomainList domains,
                        ConfigurationProvider configurations) {
        this.spamtrap = spamtrap;
        this.compromisedAccounts = compromisedAccounts;
        this.events = events;
        this.domains = domains;
        this.configurations = configurations;
    }

    @Override
    public void init(Configuration config) throws ConfigurationException {
        String m = config.getString("mode", "accept").trim().toLowerCase(Locale.ROOT);
        switch (m) {
            case "accept": mode = Mode.ACCEPT; break;
            case "reject": mode = Mode.REJECT; break;
            default: throw SpamtrapHandlerSupport.badParameter(getClass(), "mode", "'" + m + "' is not one of accept, reject");
        }
        String b = config.getString("bounces", "evidence").trim().toLowerCase(Locale.ROOT);
        switch (b) {
            case "evidence": bounces = Bounces.EVIDENCE; break;
            case "offence": bounces = Bounces.OFFENCE; break;
            default: throw SpamtrapHandlerSupport.badParameter(getClass(), "bounces", "'" + b + "' is not one of evidence, offence");
        }
        if (config.containsKey("trustedRelays")) {
            throw SpamtrapHandlerSupport.badParameter(getClass(), "trustedRelays", "is a node setting now: move the list to key 'trustedRelays'"
                + " of spamtrap.properties (every handler and the firewall client read it there) and remove it here");
        }
        QuarantineWiring.checkMailetContainer(configurations);
        LOGGER.info("Trap recipients are {}; {} trusted relay range(s) (spamtrap.properties trustedRelays)",
            mode == Mode.ACCEPT ? "accepted and quarantined" : "rejected as unknown users", spamtrap.config().trustedRelays().ranges().size());
    }

    @Override
    public List<Class<?>> getMarkerInterfaces() {
        return List.of(RcptHook.class, JamesMessageHook.class);
    }

    @Override
    public void wireExtensions(Class<?> marker, List<?> extensions) throws WiringException {
        if (marker == RcptHook.class) {
            QuarantineWiring.checkRcptOrder(extensions);
        } else if (marker == JamesMessageHook.class) {
            QuarantineWiring.checkMessageHooks(extensions);
        }
    }

    /** What a trap recipient means, depending on who sends it (decided by {@link #classify}). */
    enum Kind {
        /** A trusted relay passes it on: the offender is read from the relay's Received: header at the end of DATA. */
        RELAYED,
        /** An authenticated session: a probable compromised account. Nothing listed; the trap copy quarantined. */
        AUTHENTICATED,
        /** A relay-authorized network ({@code authorizedAddresses}): nothing listed; the trap copy quarantined. */
        RELAY_AUTHORIZED,
        /** An allowlisted client: nothing listed; the trap copy quarantined. */
        ALLOWLISTED,
        /** A bounce or auto-reply (null sender) with {@code bounces=evidence}: the message quarantined, nothing listed. */
        BACKSCATTER,
        /** Anyone else: an offence, listed; the connection is trapped. */
        OFFENCE
    }

    /**
     * Who is sending decides what a trap recipient means; the reply never depends on it (see {@link #doRcpt}). A
     * trusted relay comes first: it is usually relay-authorized too, and its trap must still be attributed.
     */
    static Kind classify(boolean trustedRelay, boolean authenticated, boolean relayAuthorized, boolean allowlisted, boolean nullSender,
                         Bounces bounces) {
        if (trustedRelay) {
            return Kind.RELAYED;
        }
        if (authenticated) {
            return Kind.AUTHENTICATED;
        }
        if (relayAuthorized) {
            return Kind.RELAY_AUTHORIZED;
        }
        if (allowlisted) {
            return Kind.ALLOWLISTED;
        }
        if (nullSender && bounces == Bounces.EVIDENCE) {
            return Kind.BACKSCATTER;
        }
        return Kind.OFFENCE;
    }

    @Override
    public HookResult doRcpt(SMTPSession session, MaybeSender sender, MailAddress rcpt) {
        Optional<TrapEntry> trap = spamtrap.trapFor(rcpt.asString());
        if (trap.isEmpty()) {
            return HookResult.DECLINED;
        }
        String trapAddress = rcpt.asString().toLowerCase(Locale.ROOT);
        InetAddress client = session.getRemoteAddress().getAddress();
        String ip = SpamtrapHandlerSupport.clientIp(session);
        String helo = session.getAttachment(SMTPSession.CURRENT_HELO_NAME, State.Connection).orElse("");
        String mailFrom = sender.asString("");
        Kind kind = classify(trustedRelays().contains(client), session.getUsername() != null,
            session.getConfiguration().isRelayingAllowed(client.getHostAddress()), spamtrap.isAllowlisted(client), sender.isNullSender(), bounces);
        boolean served = isServed(rcpt);
        switch (kind) {
            case RELAYED:
                if (!served) {
                    return HookResult.DECLINED; // not ours to receive: James answers the relay as it would anyway
                }
                // The relay is not the offender: accept (so that the message arrives whatever mode says), quarantine,
                // and find the real client in the header the relay wrote.
                session.setAttachment(SpamtrapSessionKeys.RELAYED_TRAP, new RelayedTrap(trapAddress, mailFrom, trap.get().kind().name(),
                    trustedRelays(), sender.isNullSender() && bounces == Bounces.EVIDENCE), State.Transaction);
                return HookResult.OK;
            case AUTHENTICATED:
            case RELAY_AUTHORIZED:
            case ALLOWLISTED:
                // Exempt: never listed, but answered exactly as an outsider, and only the trap's copy is kept back.
                String account = kind == Kind.AUTHENTICATED ? session.getUsername().asString() : null;
                if (account != null) {
                    compromisedAccounts.record(account, ip, trapAddress);
                }
                events.exemptHit(ip, kind.name().toLowerCase(Locale.ROOT).replace('_', '-'), account, trapAddress, mailFrom);
                SpamtrapSessionKeys.addTrappedRecipient(session, rcpt);
                return outsidersReply(rcpt, served);
            case BACKSCATTER:
                // Someone forged the trap as a sender; this server only bounced. Its message is kept back, it is not listed.
                if (session.getAttachment(SpamtrapSessionKeys.TRAPPED_TRANSACTION, State.Transaction).isEmpty()) {
                    events.backscatter(ip, trapAddress, helo);
                }
                session.setAttachment(SpamtrapSessionKeys.TRAPPED_TRANSACTION, trapAddress, State.Transaction);
                return outsidersReply(rcpt, served);
            default:
                if (session.getAttachment(SpamtrapSessionKeys.TRAPPED, State.Connection).isEmpty()) {
                    // the connection's first trap: its one hit (later traps on this connection are the same offence)
                    session.setAttachment(SpamtrapSessionKeys.TRAPPED, trapAddress, State.Connection);
                    // listed locally now; the recorder's and the event writer's threads are woken once the reply is written
                    java.util.concurrent.Executor afterReply = AfterReply.of(session);
                    spamtrap.recordHit(new TrapHit(spamtrap.config().nodeName() + "/" + session.getSessionID(), spamtrap.offenderKey(client),
                        ip, spamtrap.clock().instant(), trapAddress, helo, mailFrom, spamtrap.config().nodeName()), afterReply);
                    String trapKind = trap.get().kind().name();
                    afterReply.execute(() -> events.hit(ip, rcpt.asString(), trapKind, helo, mailFrom));
                }
                return outsidersReply(rcpt, served);
        }
    }

    /**
     * What anyone gets for this trap: in a domain James does not serve, James's own answer (declined); otherwise a
     * real mailbox's 250 ({@code accept}) or James's unknown-user reply ({@code reject}).
     */
    private HookResult outsidersReply(MailAddress rcpt, boolean served) {
        if (!served) {
            return HookResult.DECLINED;
        }
        return mode == Mode.REJECT ? unknownUser(rcpt) : HookResult.OK;
    }

    private boolean isServed(MailAddress rcpt) {
        try {
            return domains.containsDomain(rcpt.getDomain());
        } catch (DomainListException e) {
            LOGGER.warn("Domain list unavailable ({}); answering for <{}> as James would", e.getMessage(), rcpt.asString());
            return false;
        }
    }

    /** Built exactly as James's AbstractValidRcptHandler builds its unknown-user reply, so the two cannot be told apart. */
    static HookResult unknownUser(MailAddress rcpt) {
        return HookResult.builder()
            .hookReturnCode(HookReturnCode.deny())
            .smtpReturnCode(SMTPRetCode.MAILBOX_PERM_UNAVAILABLE)
            .smtpDescription(DSNStatus.getStatus(DSNStatus.PERMANENT, DSNStatus.ADDRESS_MAILBOX) + " Unknown user: " + rcpt.asString())
            .build();
    }

    Mode mode() {
        return mode;
    }

    private Allowlist trustedRelays() {
        return spamtrap.config().trustedRelays();
    }
}
