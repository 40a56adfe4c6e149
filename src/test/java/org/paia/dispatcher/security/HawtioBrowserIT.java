package org.paia.dispatcher.security;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.camel.CamelContext;
import org.apache.camel.Route;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;
import org.paia.dispatcher.support.DispatcherIT;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Hawtio in a real headless browser — Debian's chromium through its chromedriver, never a
 * downloaded driver: a viewer logs in, opens the Camel routes view and sees every route of the
 * running CamelContext, and the diagrams of the routes that call out show their endpoints. The screenshots
 * are kept as target/hawtio-routes.png and target/hawtio-&lt;route&gt;-diagram.png.
 */
class HawtioBrowserIT extends DispatcherIT {

    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    static final Path SCREENSHOT = Path.of("target", "hawtio-routes.png");

    @LocalServerPort
    int port;
    @Autowired
    CamelContext camel;

    private Path profile;
    private ChromeDriverService service;
    private WebDriver browser;

    @BeforeEach
    void startBrowser() throws IOException {
        // not an assumption: on a machine without chromium this test fails instead of silently passing
        assertThat(CHROMIUM).as("Debian's chromium (apt-get install -y chromium chromium-driver)").isExecutable();
        assertThat(CHROMEDRIVER).as("Debian's chromedriver (apt-get install -y chromium-driver)").isExecutable();
        profile = Files.createTempDirectory(Path.of("target"), "chromium-profile");
        // an explicit driver executable and browser binary: Selenium Manager never runs, nothing is downloaded
        service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort().build();
        ChromeOptions options = new ChromeOptions().setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1600,1000", "--user-data-dir=" + profile.toAbsolutePath());
        browser = new ChromeDriver(service, options);
    }

    @AfterEach
    void stopBrowser() throws IOException {
        if (browser != null) {
            browser.quit();
        }
        if (service != null) {
            service.stop();
        }
        if (profile != null) {
            try (var files = Files.walk(profile)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
            }
        }
    }

    @Test
    void viewerSeesEveryRouteInHawtiosCamelRoutesView() throws IOException {
        List<String> routeIds = camel.getRoutes().stream().map(Route::getRouteId).sorted().toList();
        assertThat(routeIds).contains("task-intake", "schedule-tick", "pod-watch", "run-finish");
        WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(120));

        try {
            browser.get(base() + "/actuator/hawtio/camel/routes");
            wait.until(page -> !page.findElements(By.name("username")).isEmpty());
            browser.findElement(By.name("username")).sendKeys(WebSecurityIT.VIEWER);
            browser.findElement(By.name("password")).sendKeys(WebSecurityIT.VIEWER_PASSWORD);
            browser.findElement(By.cssSelector("button[type=submit]")).click();
            wait.until(page -> page.getCurrentUrl().contains("/actuator/hawtio"));
            browser.get(base() + "/actuator/hawtio/camel/routes");
            // the Routes tab's table: one row per route with its state and exchange counters
            wait.until(page -> page.findElements(By.tagName("table")).stream()
                    .anyMatch(table -> routeIds.stream().allMatch(table.getText()::contains)));
        } finally {
            Files.createDirectories(SCREENSHOT.getParent());
            Files.write(SCREENSHOT, ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES));
            Files.writeString(Path.of("target", "hawtio-routes.html"), browser.getPageSource());
        }
        String table = browser.findElements(By.tagName("table")).stream().map(element -> element.getText())
                .filter(text -> text.contains("task-intake")).findFirst().orElseThrow();
        assertThat(table).contains(routeIds);
        assertThat(table).contains("Started", "Completed", "Failed", "InFlight");

        // The route diagrams show the calls out as endpoints: Blob Storage, Kubernetes and paia-tx.
        // (node labels are cut at 17 characters; the step ids are whole)
        assertDiagramShows(wait, "instance-launch", "Enrich: direct:fe", "ID: programs", "ID: create-pod",
                "To kubernetes-pod", "ID: get-pod");
        assertDiagramShows(wait, "program-fetch", "To azure-storage", "ID: list-program-blobs", "ID: download-blob");
        assertDiagramShows(wait, "run-finish", "To azure-storage", "ID: upload-artifact", "To paia-tx:ledger",
                "ID: record-outcome");
    }

    /** Opens the route's diagram (tree node, then the Route Diagram tab) and waits for these labels in it. */
    private void assertDiagramShows(WebDriverWait wait, String route, String... labels) throws IOException {
        Path shot = Path.of("target", "hawtio-" + route + "-diagram.png");
        try {
            browser.get(base() + "/actuator/hawtio/camel/routes");
            wait.until(page -> !page.findElements(By.xpath("//*[normalize-space(text())='" + route + "']")).isEmpty());
            browser.findElement(By.xpath("//*[normalize-space(text())='" + route + "']")).click();
            wait.until(page -> !page.findElements(By.xpath("//*[normalize-space(text())='Route Diagram']")).isEmpty());
            browser.findElement(By.xpath("//*[normalize-space(text())='Route Diagram']")).click();
            // the diagram itself (React Flow), not the endpoint tree beside it
            wait.until(page -> page.findElements(By.cssSelector(".react-flow")).stream()
                    .map(d -> d.getDomProperty("textContent"))
                    .anyMatch(text -> text != null && java.util.Arrays.stream(labels).allMatch(text::contains)));
        } finally {
            Files.write(shot, ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES));
            Files.writeString(Path.of("target", "hawtio-" + route + "-diagram.html"), browser.getPageSource());
        }
    }

    private String base() {
        return "http://127.0.0.1:" + port;
    }
}
