package dev.spamtrap.core.blocklist;

import java.io.BufferedInputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.Locale;
import java.util.zip.GZIPInputStream;

/**
 * Where a list comes from: a local file or an HTTP(S) URL, as spamd.conf's {@code :method=file:} and
 * {@code :method=http:} / {@code :method=https:} with {@code :file=...:}. Either may be gzip-compressed (recognised by
 * its first bytes, as spamd-setup's gzdopen does). A fetch tells whether the list changed since the last successful
 * load (a file's size and modification time; HTTP's {@code ETag} / {@code Last-Modified} with a conditional request),
 * so an unchanged list is not parsed again.
 */
public abstract class BlocklistSource {
    /** What the last successful load saw of the source: opaque, compared for equality. */
    public interface Version {
    }

    /** The open text of the list, and its version to remember once it has loaded. */
    public static final class Fetched implements AutoCloseable {
        private final InputStream body;
        private final Version version;

        Fetched(InputStream body, Version version) {
            this.body = body;
            this.version = version;
        }

        /** The list's text, gunzipped when it was compressed. */
        public InputStream body() {
            return body;
        }

        public Version version() {
            return version;
        }

        @Override
        public void close() throws IOException {
            body.close();
        }
    }

    /** The source as the administrator wrote it. */
    public abstract String describe();

    /**
     * Opens the list, or returns null when it has not changed since {@code previous} (null: load whatever is there).
     *
     * @throws IOException when the source cannot be read (missing file, HTTP error, timeout): the list in use is kept
     */
    public abstract Fetched fetch(Version previous) throws IOException;

    @Override
    public String toString() {
        return describe();
    }

    /**
     * Parses a source: {@code http://...}, {@code https://...}, {@code file:/abs/path}, or a plain path (relative paths
     * against {@code baseDir}, the folder of spamtrap.properties).
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    public static BlocklistSource of(String text, Path baseDir, Duration timeout) {
        String t = text.trim();
        String lower = t.toLowerCase(Locale.ROOT);
        if (lower.startsWith("http://") || lower.startsWith("https://")) {
            URI uri;
            try {
                uri = new URI(t);
                uri.toURL();
            } catch (Exception e) {
                throw new IllegalArgumentException("'" + t + "' is not a valid URL: " + e.getMessage());
            }
            if (uri.getHost() == null) {
                throw new IllegalArgumentException("'" + t + "' names no host");
            }
            return new Http(uri, timeout);
        }
        if (lower.startsWith("file:")) {
            try {
                return new File(Path.of(new URI(t)));
            } catch (Exception e) {
                throw new IllegalArgumentException("'" + t + "' is not a file URL (file:/absolute/path): " + e.getMessage());
            }
        }
        if (lower.matches("^[a-z][a-z0-9+.-]*://.*")) {
            throw new IllegalArgumentException("'" + t + "': only http://, https://, file: and plain paths are read");
        }
        Path p = Path.of(t);
        return new File(p.isAbsolute() ? p : baseDir.resolve(p).normalize());
    }

    /** Wraps {@code in} in a gunzip stream when it starts with gzip's magic bytes. */
    static InputStream maybeGunzip(InputStream in) throws IOException {
        BufferedInputStream b = new BufferedInputStream(in, 64 * 1024);
        b.mark(2);
        int first = b.read();
        int second = b.read();
        b.reset();
        if (first == 0x1f && second == 0x8b) {
            return new GZIPInputStream(b, 64 * 1024);
        }
        return b;
    }

    /** A local file, re-read when its size or modification time changes. */
    static final class File extends BlocklistSource {
        private final Path path;

        File(Path path) {
            this.path = path;
        }

        Path path() {
            return path;
        }

        @Override
        public String describe() {
            return path.toUri().toString();
        }

        @Override
        public Fetched fetch(Version previous) throws IOException {
            BasicFileAttributes attributes;
            try {
                attributes = Files.readAttributes(path, BasicFileAttributes.class);
            } catch (NoSuchFileException e) {
                throw new FileNotFoundException(path + ": no such file");
            }
            if (!attributes.isRegularFile()) {
                throw new IOException(path + " is not a regular file");
            }
            Stamp now = new Stamp(attributes.size() + "/" + attributes.lastModifiedTime().toMillis());
            if (now.equals(previous)) {
                return null;
            }
            return new Fetched(maybeGunzip(Files.newInputStream(path)), now);
        }
    }

    /** An HTTP(S) URL, asked with If-None-Match / If-Modified-Since after the first load; redirects followed. */
    static final class Http extends BlocklistSource {
        private final URI uri;
        private final Duration timeout;

        Http(URI uri, Duration timeout) {
            this.uri = uri;
            this.timeout = timeout;
        }

        @Override
        public String describe() {
            return uri.toString();
        }

        @Override
        public Fetched fetch(Version previous) throws IOException {
            URL url = uri.toURL();
            HttpURLConnection c = (HttpURLConnection) url.openConnection();
            c.setConnectTimeout((int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
            c.setReadTimeout((int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
            c.setInstanceFollowRedirects(true);
            c.setUseCaches(false);
            c.setRequestProperty("User-Agent", "james-spamtrap list loader");
            c.setRequestProperty("Accept-Encoding", "gzip");
            if (previous instanceof HttpStamp) {
                HttpStamp p = (HttpStamp) previous;
                if (p.etag != null) {
                    c.setRequestProperty("If-None-Match", p.etag);
                }
                if (p.lastModified != null) {
                    c.setRequestProperty("If-Modified-Since", p.lastModified);
                }
            }
            int status = c.getResponseCode();
            if (status == HttpURLConnection.HTTP_NOT_MODIFIED && previous != null) {
                c.disconnect();
                return null;
            }
            if (status / 100 != 2) {
                c.disconnect();
                throw new IOException(uri + ": HTTP " + status + (c.getResponseMessage() == null ? "" : " " + c.getResponseMessage()));
            }
            String etag = c.getHeaderField("ETag");
            String lastModified = c.getHeaderField("Last-Modified");
            // Content-Encoding: gzip and a .gz file served as is are both recognised by their first bytes
            InputStream body = maybeGunzip(c.getInputStream());
            Version version = etag == null && lastModified == null ? new Stamp("fetched@" + System.nanoTime()) : new HttpStamp(etag, lastModified);
            return new Fetched(body, version);
        }
    }

    /** A version compared by its text. */
    static final class Stamp implements Version {
        private final String text;

        Stamp(String text) {
            this.text = text;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Stamp && ((Stamp) o).text.equals(text);
        }

        @Override
        public int hashCode() {
            return text.hashCode();
        }

        @Override
        public String toString() {
            return text;
        }
    }

    static final class HttpStamp implements Version {
        final String etag;
        final String lastModified;

        HttpStamp(String etag, String lastModified) {
            this.etag = etag;
            this.lastModified = lastModified;
        }

        @Override
        public String toString() {
            return etag != null ? "etag " + etag : "last-modified " + lastModified;
        }
    }
}
