package dev.panaio.testing;

import org.apache.lucene.analysis.standard.StandardAnalyzer;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.LongPoint;
import org.apache.lucene.document.NumericDocValuesField;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.document.TextField;
import org.apache.lucene.index.CheckIndex;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.StoredFields;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.BooleanClause;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.PhraseQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.Sort;
import org.apache.lucene.search.SortField;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.store.IOContext;
import org.apache.lucene.store.IndexInput;
import org.apache.lucene.store.NIOFSDirectory;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Apache Lucene, a library that reads its index through
 * {@code FileChannel.open} ({@link NIOFSDirectory}), indexing and searching a
 * few hundred generated documents in a directory: the same lines on any
 * provider that behaves as the JDK's.
 */
public final class LuceneWorkload {
    private LuceneWorkload() {
    }

    private static final String[] WORDS = {"quick", "brown", "fox", "jumps", "over", "lazy", "dog", "river",
            "amber", "stone", "kernel", "ring", "lucene", "panaio", "queue", "block", "page", "cache", "direct",
            "write", "read", "index", "search", "segment", "merge", "commit", "field", "term", "score", "token"};

    /** Indexes, deletes, merges, checks and searches in {@code dir}; returns what it found, line by line. */
    public static List<String> indexAndSearch(Path dir) throws IOException {
        List<String> results = new ArrayList<>();
        try (NIOFSDirectory directory = new NIOFSDirectory(dir)) {
            IndexWriterConfig config = new IndexWriterConfig(new StandardAnalyzer());
            try (IndexWriter writer = new IndexWriter(directory, config)) {
                for (int i = 0; i < 600; i++) {
                    writer.addDocument(document(i));
                    if (i % 150 == 149) {
                        writer.commit(); // several segments, each fsynced
                    }
                }
                writer.deleteDocuments(new Term("id", "doc-7"), new Term("id", "doc-300"));
                writer.commit();
                writer.forceMerge(2);
                writer.commit();
            }
            try (CheckIndex check = new CheckIndex(directory)) { // reads every byte of the index back
                check.setInfoStream(new PrintStream(OutputStream.nullOutputStream()));
                results.add("clean=" + check.checkIndex().clean);
            }
            try (DirectoryReader reader = DirectoryReader.open(directory)) {
                results.add("numDocs=" + reader.numDocs() + " maxDoc=" + reader.maxDoc()
                        + " segments=" + reader.leaves().size());
                IndexSearcher searcher = new IndexSearcher(reader);
                StoredFields stored = searcher.storedFields();
                List<Query> queries = List.of(
                        new TermQuery(new Term("body", "lucene")),
                        new BooleanQuery.Builder()
                                .add(new TermQuery(new Term("body", "amber")), BooleanClause.Occur.MUST)
                                .add(new TermQuery(new Term("body", "river")), BooleanClause.Occur.SHOULD)
                                .build(),
                        new PhraseQuery("body", "quick", "fox"),
                        LongPoint.newRangeQuery("n", 100, 199));
                for (Query query : queries) {
                    TopDocs top = searcher.search(query, 10);
                    results.add(query + " hits=" + top.totalHits + " " + describe(top, stored));
                }
                TopDocs sorted = searcher.search(new TermQuery(new Term("body", "kernel")), 10,
                        new Sort(new SortField("n", SortField.Type.LONG, true)));
                results.add("kernel by n desc: " + describe(sorted, stored));
            }
        }
        return results;
    }

    /**
     * The class of the channel behind one of the index's inputs, read from
     * NIOFSDirectory's input (Lucene exposes it to subclasses only).
     */
    public static String channelClassOfAnInput(Path dir) throws IOException {
        try (NIOFSDirectory directory = new NIOFSDirectory(dir);
             IndexInput input = directory.openInput(directory.listAll()[0], IOContext.DEFAULT)) {
            java.lang.reflect.Field channel = input.getClass().getDeclaredField("channel");
            channel.setAccessible(true);
            return channel.get(input).getClass().getName();
        } catch (ReflectiveOperationException | RuntimeException e) {
            return "unknown: " + e;
        }
    }

    private static Document document(int i) {
        Document document = new Document();
        document.add(new StringField("id", "doc-" + i, Field.Store.YES));
        document.add(new TextField("body", sentence(i), Field.Store.YES));
        document.add(new LongPoint("n", i));
        document.add(new NumericDocValuesField("n", i));
        document.add(new StoredField("n", i));
        return document;
    }

    /** Eight to twenty words, from a generator seeded by the document number. */
    private static String sentence(int i) {
        long state = 0x9E3779B97F4A7C15L * (i + 1);
        StringBuilder sentence = new StringBuilder();
        int length = 8 + (int) Long.remainderUnsigned(state, 13);
        for (int w = 0; w < length; w++) {
            state = state * 6364136223846793005L + 1442695040888963407L;
            sentence.append(WORDS[(int) Long.remainderUnsigned(state >>> 17, WORDS.length)]).append(' ');
        }
        return sentence.toString();
    }

    private static String describe(TopDocs top, StoredFields stored) throws IOException {
        StringBuilder line = new StringBuilder();
        for (ScoreDoc hit : top.scoreDocs) {
            line.append(stored.document(hit.doc).get("id"))
                    .append(String.format(Locale.ROOT, ":%.6f ", hit.score));
        }
        return line.toString().trim();
    }
}
