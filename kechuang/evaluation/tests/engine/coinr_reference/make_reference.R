# Regenerates the reference files in this folder with COINr 1.1.14 (R >= 4.0):
#   R CMD INSTALL -l LIB path/to/COINr   (github.com/bluefoxr/COINr, version 1.1.14)
#   Rscript make_reference.R LIB OUTDIR
# Each <variant>.csv.gz holds the aggregate scores of a complete ASEM build that
# differs from build_example_coin() in one step (see test_coinr_variants.py for
# the matching engine specs); *_details files are treatment logs.
args <- commandArgs(trailingOnly = TRUE)
suppressMessages(library(COINr, lib.loc = args[1]))
out <- args[2]
aggs <- c("Index", "Conn", "Sust", "Physical", "ConEcFin", "Political", "Instit", "P2P",
          "Environ", "Social", "SusEcFin")

save <- function(df, name) {
  df[] <- lapply(df, function(col) {
    if (is.double(col)) ifelse(is.na(col), NA, sprintf("%.17g", col)) else col
  })
  con <- gzfile(file.path(out, paste0(name, ".csv.gz")), "w")
  write.csv(df, con, row.names = FALSE, na = "")
  close(con)
}
scores <- function(coin, name) {
  save(get_dset(coin, "Aggregated")[c("uCode", aggs)], name)
}
finish <- function(coin, dset, name, n_specs = NULL, ag = "a_amean", ag_para = NULL, thresh = NULL) {
  if (dset == "Treated") {
    coin <- Normalise(coin, dset = "Treated", global_specs = n_specs)
    dset <- "Normalised"
  }
  scores(Aggregate(coin, dset = dset, f_ag = ag, f_ag_para = ag_para, dat_thresh = thresh), name)
}

treated <- build_example_coin(up_to = "Treat", quietly = TRUE)
norm <- function(name, specs) finish(treated, "Treated", paste0("normalise_", name), n_specs = specs)
norm("zscore", list(f_n = "n_zscore", f_n_para = list(m_sd = c(10, 2))))
norm("rank", list(f_n = "n_rank"))
norm("percentile_rank", list(f_n = "n_prank"))
norm("borda", list(f_n = "n_borda"))
norm("fraction_of_max", list(f_n = "n_fracmax"))
norm("distance_to_max", list(f_n = "n_dist2max"))
norm("distance_to_target", list(f_n = "n_dist2targ", f_n_para = "use_iMeta"))
norm("distance_to_reference", list(f_n = "n_dist2ref",
  f_n_para = list(iref = which(treated$Data$Treated$uCode == "DEU"), cap_max = TRUE)))
with_posts <- treated
with_posts$Meta$Ind$goalpost_lower <- 0
with_posts$Meta$Ind$goalpost_upper <- with_posts$Meta$Ind$Target
with_posts$Meta$Ind$goalpost_scale <- 100
with_posts$Meta$Ind$goalpost_trunc2posts <- TRUE
with_posts$Meta$Ind$dist2targ_cap_max <- TRUE
finish(with_posts, "Treated", "normalise_goalposts_reflect",
       n_specs = list(f_n = "n_goalposts", f_n_para = "use_iMeta"))
finish(with_posts, "Treated", "normalise_distance_to_target_cap",
       n_specs = list(f_n = "n_dist2targ", f_n_para = "use_iMeta"))

one_to_hundred <- Normalise(treated, dset = "Treated",
  global_specs = list(f_n = "n_minmax", f_n_para = list(l_u = c(1, 100))))
agg <- function(name, ...) scores(Aggregate(one_to_hundred, dset = "Normalised", ...), paste0("aggregate_", name))
agg("geometric", f_ag = "a_gmean")
agg("harmonic", f_ag = "a_hmean")
agg("generalised_mean", f_ag = "a_genmean", f_ag_para = list(p = 2))
agg("by_level", f_ag = c("a_amean", "a_gmean", "a_amean"))
agg("by_level_generalised", f_ag = c("a_genmean", "a_amean", "a_amean"),
    f_ag_para = list(list(p = 3), NULL, NULL))

rest <- function(coin, dset, name, winmax = 5) {
  if (dset == "Imputed") {
    coin <- Screen(coin, dset = "Imputed", dat_thresh = 0.9, unit_screen = "byNA")
    dset <- "Screened"
  }
  if (dset == "Imputed_only") dset <- "Imputed"
  coin <- Treat(coin, dset = dset, global_specs = list(f1_para = list(winmax = winmax)))
  finish(coin, "Treated", name, n_specs = list(f_n = "n_minmax", f_n_para = list(c(0, 100))))
}
denominated <- build_example_coin(up_to = "Denominate", quietly = TRUE)
rest(Impute(denominated, dset = "Denominated", f_i = "i_mean"), "Imputed", "impute_mean")
rest(Impute(denominated, dset = "Denominated", f_i = "i_median"), "Imputed", "impute_median")
rest(Impute(denominated, dset = "Denominated", f_i = "i_median_grp", use_group = "GDPpc_group"),
     "Imputed", "impute_median_group")
# Screening before imputation, on data with gaps (the order is free in COINr too).
screened_na <- Screen(denominated, dset = "Denominated", dat_thresh = 0.95, unit_screen = "byNA")
rest(Impute(screened_na, dset = "Screened", f_i = "i_mean_grp", use_group = "EurAsia_group",
            write_to = "Imputed"), "Imputed_only", "screen_na")
rest(Screen(denominated, dset = "Denominated", unit_screen = "byzeros", nonzero_thresh = 0.95),
     "Screened", "screen_zeros")
rest(Screen(denominated, dset = "Denominated", dat_thresh = 0.95, unit_screen = "byNAandzeros",
            nonzero_thresh = 0.95), "Screened", "screen_na_and_zeros")

screened <- build_example_coin(up_to = "Screen", quietly = TRUE)
for (winmax in c(0, 2)) {
  coin <- Treat(screened, dset = "Screened", global_specs = list(f1_para = list(winmax = winmax)))
  save(coin$Analysis$Treated$Dets_Table, paste0("treat_winmax", winmax, "_details"))
  finish(coin, "Treated", paste0("treat_winmax", winmax),
         n_specs = list(f_n = "n_minmax", f_n_para = list(c(0, 100))))
}
raw <- build_example_coin(up_to = "new_coin", quietly = TRUE)
coin <- Treat(raw, dset = "Raw")
save(coin$Analysis$Treated$Dets_Table, "treat_raw_details")
raw_normalised <- Normalise(raw, dset = "Raw")
scores(Aggregate(raw_normalised, dset = "Normalised"), "raw_arithmetic")
scores(Aggregate(raw_normalised, dset = "Normalised", dat_thresh = 0.8), "raw_data_threshold")

full <- build_example_coin(quietly = TRUE)
save(get_PCA(full, dset = "Normalised", Level = 1, by_groups = TRUE)$Weights, "pca_loadings_level1")

purse <- build_example_purse(quietly = TRUE)
save(get_dset(purse, "Aggregated")[c("uCode", "Time", aggs)], "purse")
save(do.call(rbind, lapply(seq_len(nrow(purse)), function(i) {
  cbind(Time = purse$Time[i], purse$coin[[i]]$Analysis$Treated$Dets_Table)
})), "purse_treat_details")
save(do.call(rbind, lapply(seq_len(nrow(purse)), function(i) {
  r <- get_results(purse$coin[[i]], dset = "Aggregated", tab_type = "Aggs", nround = 17)
  cbind(Time = purse$Time[i], r[c("uCode", "Rank")])
})), "purse_ranks")
